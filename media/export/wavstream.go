package export

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/mediaseal/mediaseal/media/codec"
)

// reorderWindow is how many packets of a track a stream holds to put
// them back in sequence order; a packet later than that falls back.
const reorderWindow = 64

// maxStreamSegments bounds what a [StreamPlan] keeps per track; a
// recording cut into more segments than this is rebuilt by the Builder.
const maxStreamSegments = 4096

// StreamPlan rebuilds the placement of every track without keeping any
// packet: it is fed the records once (the plan pass) and keeps, per track,
// the numbering of each source and one small entry per segment. It mirrors
// the [Builder] exactly for recordings whose packets arrived in order
// (each source's sequence numbers strictly increasing within a run, runs
// never resumed); for anything else Streamable reports false and the
// caller rebuilds with the Builder. Feeds ([StreamPlan.NewFeed]) then read
// the records again and place each media packet where the Builder would.
type StreamPlan struct {
	h      Header
	maxDur time.Duration
	p      planner
	segs   [][]*segInfo // placed segments per track, after Finish
}

// segInfo is what placement needs of a segment: no packets.
type segInfo struct {
	segPlace
	n        int   // media packets
	lastTS   int64 // extended timestamp of the last packet
	firstArr int64
	tail     [anchorWindow]int64 // t0 of the last packets (ring)
}

// planner is the streaming front end shared by every pass: numbering,
// runs, pauses and segment splitting, fed records in recording order.
type planner struct {
	tracks  []*streamTrack
	ignored int
	lastArr int64
	reason  string // why the recording cannot stream; "" while it can
}

type runInfo struct {
	ok                   bool
	ssrc                 uint32
	gen, epoch           int
	lastArr, maxSeq, seq int64
}

type streamTrack struct {
	t        Track
	decode   codec.DecodeFunc
	ssrcs    map[uint32]*ssrcState
	epoch    int
	paused   bool
	pauseAt  int64
	pauseNS  int64
	lastEnd  int64
	cur, prv runInfo
	seg      *segInfo // open segment of the current run, nil at a new run
	segs     []*segInfo
	media    int64 // media packets so far: the rank of the next frame
	index    uint8
	buf      []held // the reorder window, by sequence number
	released bool   // cur.seq is the last packet released of the run
	sum      Summary
}

func newPlanner(h Header) planner {
	var p planner
	for _, t := range h.Tracks {
		st := &streamTrack{t: t, ssrcs: map[uint32]*ssrcState{}, lastEnd: -1, index: uint8(len(p.tracks))}
		st.sum.Label = t.Label
		if dec, err := codec.Lookup(t.Codec); err == nil && t.Kind != "video" {
			st.decode = dec
		} else if p.reason == "" {
			p.reason = fmt.Sprintf("track %q (%s %s) does not decode to PCM", t.Label, t.Kind, t.Codec)
		}
		p.tracks = append(p.tracks, st)
	}
	return p
}

// placed is one media packet as a pass sees it.
type placed struct {
	track uint8
	seg   int // index in the track's segments
	ts    int64
	rank  int64
	pay   []byte
}

// add takes one record and hands emit the media packets it releases.
func (p *planner) add(r Record, emit func(placed)) {
	valid := r.Arrival >= 0 && r.Arrival <= maxArrival
	if valid {
		p.lastArr = max(p.lastArr, r.Arrival)
	}
	switch r.Type {
	case RecordPacket:
		if int(r.Track) >= len(p.tracks) {
			p.ignored++
			return
		}
		t := p.tracks[r.Track]
		t.sum.Packets++
		if !valid {
			t.sum.Malformed++
			return
		}
		t.packet(p, r, emit)
	case RecordPause, RecordResume:
		if !valid || (r.Track != AllTracks && int(r.Track) >= len(p.tracks)) {
			p.ignored++
			return
		}
		for i, t := range p.tracks {
			if r.Track == AllTracks || int(r.Track) == i {
				pause := r.Type == RecordPause
				switch {
				case pause && !t.paused:
					t.paused, t.pauseAt = true, r.Arrival
					t.sum.Pauses++
				case !pause && t.paused:
					t.paused = false
					t.pauseNS += max(0, r.Arrival-t.pauseAt)
					t.lastEnd = max(t.lastEnd, r.Arrival)
					t.epoch++
				}
			}
		}
	default:
		p.ignored++
	}
}

// flush releases every packet still held.
func (p *planner) flush(emit func(placed)) {
	for _, t := range p.tracks {
		t.releaseAll(p, emit)
	}
}

func (p *planner) refuse(format string, a ...any) {
	if p.reason == "" {
		p.reason = fmt.Sprintf(format, a...)
	}
}

func (t *streamTrack) packet(p *planner, r Record, emit func(placed)) {
	pk, seq, ts, gen, nb, ok := numberPacket(r, t.paused, t.ssrcs, &t.sum)
	if !ok {
		return
	}
	h, payload := &pk.Header, pk.Payload
	if len(nb.seen) > 2*maxDropout {
		// Numbers more than maxDropout below the highest are never
		// looked up again (they would start a new numbering): the set
		// stays bounded however long the call.
		for k := range nb.seen {
			if k < nb.maxSeq-maxDropout {
				delete(nb.seen, k)
			}
		}
	}

	// Runs, as Builder.runFor: one that goes back to the previous run
	// (a straggler) would interleave two runs' packets.
	if c := t.cur; !(c.ok && c.ssrc == h.SSRC && c.gen == gen && c.epoch == t.epoch) {
		if v := t.prv; c.ok && v.ok && v.ssrc == h.SSRC && v.gen == gen && v.epoch == t.epoch &&
			r.Arrival-v.lastArr <= stragglerWindow && seq <= v.maxSeq+stragglerSeq {
			p.refuse("track %q: a straggler of an earlier run", t.t.Label)
			return
		}
		t.releaseAll(p, emit) // the previous run is complete
		t.prv, t.cur = t.cur, runInfo{ok: true, ssrc: h.SSRC, gen: gen, epoch: t.epoch, lastArr: r.Arrival, maxSeq: seq}
		t.seg, t.released = nil, false
	} else {
		t.cur.lastArr = max(t.cur.lastArr, r.Arrival)
		t.cur.maxSeq = max(t.cur.maxSeq, seq)
	}
	// Hold the packet in the reorder window, in sequence order.
	i, _ := slices.BinarySearchFunc(t.buf, seq, func(b held, s int64) int { return cmp.Compare(b.seq, s) })
	t.buf = slices.Insert(t.buf, i, held{seq: seq, ts: ts, arrival: r.Arrival, ssrc: h.SSRC, gen: gen, pt: h.PayloadType,
		pay: append([]byte(nil), payload...)})
	if len(t.buf) > reorderWindow {
		t.release(p, emit)
	}
}

// held is a packet in a track's reorder window.
type held struct {
	seq, ts, arrival int64
	ssrc             uint32
	gen              int
	pt               uint8
	pay              []byte
}

func (t *streamTrack) releaseAll(p *planner, emit func(placed)) {
	for len(t.buf) > 0 && p.reason == "" {
		t.release(p, emit)
	}
	t.buf = t.buf[:0]
}

// release takes the lowest-numbered packet out of the window and places
// it, as the Builder does each run's packets in sequence order.
func (t *streamTrack) release(p *planner, emit func(placed)) {
	hp := t.buf[0]
	t.buf = slices.Delete(t.buf, 0, 1)
	if t.released {
		if hp.seq < t.cur.seq {
			p.refuse("track %q: a packet more than %d behind", t.t.Label, reorderWindow)
			return
		}
		t.sum.Lost += int(hp.seq - t.cur.seq - 1)
	}
	t.cur.seq, t.released = hp.seq, true
	ts, payload, gen := hp.ts, hp.pay, hp.gen
	r := Record{Arrival: hp.arrival}
	h := struct{ SSRC uint32 }{hp.ssrc}
	if hp.pt != t.t.PayloadType {
		t.sum.NonMedia++
		return
	}
	t.sum.Media++
	rate := t.t.ClockRate
	if s := t.seg; s != nil {
		drift := (r.Arrival - s.firstArr) - ticksToNS(ts-s.base, rate)
		if ts < s.lastTS || abs64(drift) > maxSkew {
			t.seg = nil
		}
	}
	if t.seg == nil {
		if len(t.segs) >= maxStreamSegments {
			p.refuse("track %q: more than %d segments", t.t.Label, maxStreamSegments)
			return
		}
		t.seg = &segInfo{segPlace: segPlace{ssrc: h.SSRC, gen: gen, base: ts, startArr: tickLimit}, firstArr: r.Arrival}
		t.segs = append(t.segs, t.seg)
	}
	s := t.seg
	ticks := int64(len(payload)) // G.711: one byte a sample
	s.extent = max(s.extent, ts-s.base+ticks)
	t0 := r.Arrival - ticksToNS(ts-s.base, rate)
	if s.n < anchorWindow {
		s.startArr = min(s.startArr, t0)
	}
	s.tail[s.n%anchorWindow] = t0
	s.n++
	s.lastTS = ts
	t.media++
	if emit != nil {
		emit(placed{track: t.index, seg: len(t.segs) - 1, ts: ts, rank: t.media, pay: payload})
	}
}

// NewStreamPlan checks the header and returns an empty plan.
func NewStreamPlan(h Header, o Options) (*StreamPlan, error) {
	if _, err := NewBuilder(h, Options{MaxDuration: o.MaxDuration}); err != nil {
		return nil, err // the same checks as the Builder's
	}
	if o.MaxDuration == 0 {
		o.MaxDuration = DefaultMaxDuration
	}
	return &StreamPlan{h: h, maxDur: o.MaxDuration, p: newPlanner(h)}, nil
}

// Add takes one record of the plan pass.
func (sp *StreamPlan) Add(r Record) {
	if sp.p.reason == "" {
		sp.p.add(r, nil)
	}
}

// Finish places every segment. It returns the tracks (Offset, Length and
// Summary as the Builder's; no Frames) or, when the recording cannot
// stream, a nil Timeline and the reason. The error is the Builder's
// ErrTooLong.
func (sp *StreamPlan) Finish() (*Timeline, string, error) {
	if sp.p.reason == "" {
		sp.p.flush(nil)
	}
	if sp.p.reason != "" {
		return nil, sp.p.reason, nil
	}
	tl := &Timeline{Header: sp.h, Ignored: sp.p.ignored}
	for _, t := range sp.p.tracks {
		tt, err := t.place(sp.p.lastArr, sp.maxDur)
		if err != nil {
			return nil, "", err
		}
		tl.Tracks = append(tl.Tracks, tt)
		sp.segs = append(sp.segs, t.segs)
	}
	return tl, "", nil
}

// place is trackState.finish without the packets.
func (t *streamTrack) place(recEnd int64, maxDur time.Duration) (TrackTimeline, error) {
	rate := t.t.ClockRate
	sum := t.sum
	pausedNS, lastEnd := t.pauseNS, t.lastEnd
	if t.paused {
		pausedNS += max(0, recEnd-t.pauseAt)
		lastEnd = max(lastEnd, recEnd)
	}
	sum.Paused = time.Duration(pausedNS)
	for _, s := range t.segs {
		s.endArr = tickLimit
		for j := range min(s.n, anchorWindow) {
			s.endArr = min(s.endArr, s.tail[j])
		}
		s.endArr += ticksToNS(s.extent, rate)
	}
	length, offset, err := placeSegments(len(t.segs), func(i int) *segPlace { return &t.segs[i].segPlace }, t.t, lastEnd, maxDur)
	if err != nil {
		return TrackTimeline{}, err
	}
	sum.Offset = offset
	sum.Duration = time.Duration(ticksToNS(length, rate))
	return TrackTimeline{Track: t.t, Offset: sum.Offset, Length: length, Summary: sum}, nil
}
