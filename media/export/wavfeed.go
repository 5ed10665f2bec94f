package export

import (
	"fmt"
	"io"
)

// maxWAVLagSeconds bounds the window a streamed WAV keeps open: a feed
// whose frames come more than this behind the furthest one fed (in
// samples at the track's rate) is written by the Builder instead.
const maxWAVLagSeconds = 10

// ReadPass reads every record of a recording, from the start, into fn.
// Each call is a new read; an error ends the export.
type ReadPass func(fn func(Record)) error

// feed is a later pass over the records of a placed [StreamPlan]: it runs
// the same front end again and hands each media packet of a channel's
// track to fn at its place.
type feed struct {
	sp    *StreamPlan
	p     planner
	chans []WAVChannel
	fn    func(c int, f Frame, rank int64) error
	err   error
}

func (sp *StreamPlan) newFeed(chans []WAVChannel, fn func(c int, f Frame, rank int64) error) *feed {
	return &feed{sp: sp, p: newPlanner(sp.h), chans: chans, fn: fn}
}

func (f *feed) add(r Record) {
	if f.err == nil {
		f.p.add(r, f.emit)
		f.check()
	}
}

func (f *feed) check() {
	if f.err == nil && f.p.reason != "" {
		f.err = fmt.Errorf("%w: %s", ErrChanged, f.p.reason)
	}
}

func (f *feed) emit(pl placed) {
	if f.err != nil {
		return
	}
	if int(pl.track) >= len(f.sp.segs) || pl.seg >= len(f.sp.segs[pl.track]) {
		f.err = fmt.Errorf("%w: track %d has segments the plan has not", ErrChanged, pl.track)
		return
	}
	s := f.sp.segs[pl.track][pl.seg]
	for c, ch := range f.chans {
		if ch.Track == pl.track {
			f.err = f.fn(c, Frame{Pos: s.start + pl.ts - s.base, Payload: pl.pay}, pl.rank)
			return
		}
	}
}

// close checks that the pass read what the plan pass read.
func (f *feed) close() error {
	if f.err == nil {
		f.p.flush(f.emit)
		f.check()
	}
	if f.err != nil {
		return f.err
	}
	for i, t := range f.p.tracks {
		if t.sum != f.sp.p.tracks[i].sum || len(t.segs) != len(f.sp.segs[i]) {
			return fmt.Errorf("%w: track %q: %d packets read, %d planned", ErrChanged, t.t.Label, t.sum.Packets, f.sp.p.tracks[i].sum.Packets)
		}
	}
	return nil
}

// StreamWAV writes the tracks labelled labels (one: mono, as [WriteWAV];
// two: stereo, as [WriteWAVStereo]) of the recording that read reads,
// byte for byte as those do, in memory that does not grow with the
// recording: a plan pass places every segment, a measuring pass finds how
// far behind the furthest frame a frame can come (the writer's window),
// and a writing pass decodes each packet straight into the window. A
// recording whose packets are out of order, or whose window would exceed
// ten seconds, is rebuilt by the [Builder] in a fourth read instead;
// fallback then says why ("" when it streamed). tl carries every track's
// Summary, Offset and Length (Frames only after a fallback).
func StreamWAV(w io.Writer, h Header, o Options, read ReadPass, labels ...string) (tl *Timeline, fallback string, err error) {
	if len(labels) != 1 && len(labels) != 2 {
		return nil, "", fmt.Errorf("%w: %d WAV channels (1 or 2)", ErrBadHeader, len(labels))
	}
	sp, err := NewStreamPlan(h, o)
	if err != nil {
		return nil, "", err
	}
	if err := read(sp.Add); err != nil {
		return nil, "", err
	}
	tl, fallback, err = sp.Finish()
	if err != nil {
		return nil, "", err
	}
	var chans []WAVChannel
	if fallback == "" {
		if chans, err = wavChannels(tl, labels); err != nil {
			return tl, "", err
		}
		var lag int64
		if lag, err = sp.measure(read, tl, chans); err != nil {
			return tl, "", err
		}
		if limit := int64(tl.Tracks[chans[0].Track].Track.ClockRate) * maxWAVLagSeconds; lag > limit {
			fallback = fmt.Sprintf("frames come up to %d samples behind (window limit %d)", lag, limit)
		} else {
			return tl, "", sp.write(w, read, tl, chans, lag)
		}
	}
	o.NoPCM = true
	b, err := NewBuilder(h, o)
	if err != nil {
		return nil, fallback, err
	}
	if err := read(b.Add); err != nil {
		return nil, fallback, err
	}
	if tl, err = b.Finish(); err != nil {
		return nil, fallback, err
	}
	if chans, err = wavChannels(tl, labels); err != nil {
		return tl, fallback, err
	}
	return tl, fallback, writeWAVTimeline(w, tl, chans)
}

// measure is the measuring pass: the largest distance, in sample frames,
// between the furthest frame fed so far and a frame fed after it.
func (sp *StreamPlan) measure(read ReadPass, tl *Timeline, chans []WAVChannel) (int64, error) {
	var hi, lag int64
	f := sp.newFeed(chans, func(c int, fr Frame, _ int64) error {
		ch := chans[c]
		if fr.Pos < 0 || fr.Pos >= ch.Length { // never written
			return nil
		}
		at := ch.Delay + fr.Pos
		lag = max(lag, hi-at)
		hi = max(hi, at)
		return nil
	})
	if err := read(f.add); err != nil {
		return 0, err
	}
	return lag, f.close()
}

// write is the writing pass.
func (sp *StreamPlan) write(w io.Writer, read ReadPass, tl *Timeline, chans []WAVChannel, lag int64) error {
	ww, err := NewWAVWriter(w, tl.header(), chans)
	if err != nil {
		return err
	}
	ww.lag = lag
	f := sp.newFeed(chans, ww.writeFrame)
	if err := read(f.add); err != nil {
		return err
	}
	if err := f.close(); err != nil {
		return err
	}
	return ww.Close()
}
