package export

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Placement constants.
const (
	// maxSkew: within a segment, a packet whose RTP timestamp runs ahead of
	// or behind its arrival by more than this (relative to the segment's
	// start) starts a new segment placed by arrival. It absorbs network
	// jitter and sender clock drift, and stops a jump in a sender's
	// timestamps from inventing or deleting minutes of audio.
	maxSkew = int64(2 * time.Second)
	// tsTolerance: after a pause, a segment of the same SSRC keeps its
	// RTP-timestamp position when that agrees with its arrival to within
	// this; otherwise arrival decides.
	tsTolerance = int64(120 * time.Millisecond)
	// anchorWindow packets at each end of a segment estimate when its first
	// and last sample arrived: the least-delayed packet of the window wins.
	anchorWindow = 64
)

// Timeline is the result of rebuilding a recording's tracks.
type Timeline struct {
	Header Header
	Tracks []TrackTimeline
	// Ignored counts records that carry no media for any track: events,
	// unknown record types, and records naming a track not in the header.
	Ignored int
}

// TrackTimeline is one rebuilt track. Positions are in RTP clock ticks
// (samples for audio) from the track's first sample.
type TrackTimeline struct {
	Track Track
	// Offset is when the track's first sample arrived, since Header.Start.
	Offset time.Duration
	// Length is the timeline's length in clock ticks.
	Length int64
	// PCM holds Length samples at Track.ClockRate when the codec decodes
	// to PCM (PCMU, PCMA), unless Options.NoPCM; silence (0) wherever
	// nothing was received.
	PCM []int16
	// Frames are the media packets in timeline order, with their positions.
	Frames  []Frame
	Summary Summary
}

// Frame is one media packet placed on its track's timeline.
type Frame struct {
	Pos       int64  // clock ticks since the track's first sample
	Ticks     int64  // duration in clock ticks (exact for G.711, estimated otherwise)
	SSRC      uint32 // synchronisation source
	Seq       int64  // extended sequence number within the SSRC
	Timestamp uint32 // RTP timestamp as received
	Marker    bool
	Payload   []byte
}

// Track returns the rebuilt track with the given label.
func (tl *Timeline) Track(label string) (*TrackTimeline, error) {
	for i := range tl.Tracks {
		if tl.Tracks[i].Track.Label == label {
			return &tl.Tracks[i], nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrNoTrack, label)
}

// segment is a stretch of media packets of one SSRC whose RTP timestamps
// are trusted for relative placement.
type segment struct {
	segPlace
	pkts  []packet // sorted by sequence number
	ticks []int64  // duration of each packet
}

// segPlace is what placing a segment on its track needs: no packets.
type segPlace struct {
	ssrc     uint32
	gen      int
	base     int64 // extended timestamp of the first packet
	extent   int64 // ticks from base to the end of the last packet
	startArr int64 // estimated arrival of the first tick
	endArr   int64 // estimated arrival of the end of the segment
	start    int64 // position on the track timeline
}

// Finish orders, places and decodes every track. It fails only when a
// track would exceed the maximum duration.
func (b *Builder) Finish() (*Timeline, error) {
	tl := &Timeline{Header: b.h, Ignored: b.ignored}
	for _, t := range b.tracks {
		tt, err := t.finish(b.lastArr, b.maxDur, b.noPCM)
		if err != nil {
			return nil, err
		}
		tl.Tracks = append(tl.Tracks, tt)
	}
	return tl, nil
}

func (t *trackState) finish(recEnd int64, maxDur time.Duration, noPCM bool) (TrackTimeline, error) {
	rate := t.t.ClockRate
	sum := t.sum
	pausedNS, lastEnd := t.pauseNS, t.lastEnd
	if t.paused { // an open pause lasts until the recording ends
		pausedNS += max(0, recEnd-t.pauseAt)
		lastEnd = max(lastEnd, recEnd)
	}
	sum.Paused = time.Duration(pausedNS)

	var segs []*segment
	for _, ru := range t.runs {
		slices.SortFunc(ru.pkts, func(a, b packet) int { return cmp.Compare(a.seq, b.seq) })
		for i := 1; i < len(ru.pkts); i++ {
			sum.Lost += int(ru.pkts[i].seq - ru.pkts[i-1].seq - 1)
		}
		media := make([]packet, 0, len(ru.pkts))
		for _, p := range ru.pkts {
			if p.pt == t.t.PayloadType {
				media = append(media, p)
			}
		}
		sum.NonMedia += len(ru.pkts) - len(media)
		sum.Media += len(media)
		segs = append(segs, t.split(media)...)
	}

	length, offset, err := placeSegments(len(segs), func(i int) *segPlace { return &segs[i].segPlace }, t.t, lastEnd, maxDur)
	if err != nil {
		return TrackTimeline{}, err
	}
	sum.Offset = offset
	sum.Duration = time.Duration(ticksToNS(length, rate))

	tt := TrackTimeline{Track: t.t, Offset: sum.Offset, Length: length}
	for _, s := range segs {
		for j, p := range s.pkts {
			tt.Frames = append(tt.Frames, Frame{
				Pos: s.start + p.ts - s.base, Ticks: s.ticks[j], SSRC: p.ssrc,
				Seq: p.seq, Timestamp: p.rawTS, Marker: p.marker, Payload: p.payload,
			})
		}
	}
	if t.decode != nil && !noPCM {
		tt.PCM = make([]int16, length)
		var scratch []int16
		for _, f := range tt.Frames {
			scratch = t.decode(scratch[:0], f.Payload)
			copy(tt.PCM[f.Pos:], scratch) // later packets win on overlap
		}
	}
	tt.Summary = sum
	return tt, nil
}

// placeSegments places a track's n segments (seg(i)) one after another:
// each continues from where the previous one ended plus the arrival gap
// between them (silence for a pause, a hold or a transfer), or at its
// RTP-timestamp position when it is the same SSRC and the two agree. It
// returns the track's length in ticks (to lastEnd, the end of the latest
// pause, if that is later) and its offset, or ErrTooLong.
func placeSegments(n int, seg func(int) *segPlace, t Track, lastEnd int64, maxDur time.Duration) (length int64, offset time.Duration, err error) {
	rate := t.ClockRate
	for i := range n {
		s := seg(i)
		if i > 0 {
			prev := seg(i - 1)
			prevEnd := prev.start + prev.extent
			s.start = max(0, prevEnd+nsToTicks(s.startArr-prev.endArr, rate))
			if s.ssrc == prev.ssrc && s.gen == prev.gen {
				byTS := prev.start + (s.base - prev.base)
				if byTS >= prevEnd && abs64(byTS-s.start) <= nsToTicks(tsTolerance, rate) {
					s.start = byTS
				}
			}
		}
		length = max(length, s.start+s.extent)
	}
	if n > 0 {
		offset = time.Duration(max(0, seg(0).startArr))
		// A pause that ended (or never ended) after the last media still
		// took time: the track lasts until then.
		if last := seg(n - 1); lastEnd > last.endArr {
			length = max(length, last.start+last.extent+nsToTicks(lastEnd-last.endArr, rate))
		}
	}
	if limit := nsToTicks(int64(maxDur), rate); length > limit {
		return 0, 0, fmt.Errorf("%w: track %q would last %v (max %v)",
			ErrTooLong, t.Label, time.Duration(ticksToNS(length, rate)), maxDur)
	}
	return length, offset, nil
}

// split cuts one run's media packets (sorted by sequence number) into
// segments wherever the timestamps stop agreeing with arrival times: a
// timestamp going backwards, or drifting more than maxSkew.
func (t *trackState) split(media []packet) []*segment {
	rate := t.t.ClockRate
	var segs []*segment
	var cur *segment
	for _, p := range media {
		if cur != nil {
			rel := p.ts - cur.base
			last := cur.pkts[len(cur.pkts)-1]
			drift := (p.arrival - cur.pkts[0].arrival) - ticksToNS(rel, rate)
			if p.ts < last.ts || abs64(drift) > maxSkew {
				cur = nil
			}
		}
		if cur == nil {
			cur = &segment{segPlace: segPlace{ssrc: p.ssrc, gen: p.gen, base: p.ts}}
			segs = append(segs, cur)
		}
		cur.pkts = append(cur.pkts, p)
	}
	for _, s := range segs {
		s.ticks = t.durations(s.pkts)
		s.startArr, s.endArr = anchors(s, rate)
	}
	return segs
}

// durations gives each packet's length in ticks: the payload length for
// G.711 (one byte per sample); otherwise the step to the next packet's
// timestamp, falling back to the previous step for the last packet and
// for steps longer than a second.
func (t *trackState) durations(pkts []packet) []int64 {
	d := make([]int64, len(pkts))
	if t.decode != nil {
		for i, p := range pkts {
			d[i] = int64(len(p.payload))
		}
		return d
	}
	var prev int64
	for i := range pkts {
		if i+1 < len(pkts) {
			if step := pkts[i+1].ts - pkts[i].ts; step > 0 && step <= int64(t.t.ClockRate) {
				prev = step
			}
		}
		d[i] = prev
	}
	return d
}

// anchors estimates when a segment's first and last ticks arrived. Each
// packet says "tick 0 arrived at arrival - (ts - base)"; network delay only
// ever adds to that, so the minimum over a window of packets is the best
// estimate. Windows at both ends keep sender clock drift out of it.
func anchors(s *segment, rate uint32) (startArr, endArr int64) {
	var end int64
	for i, p := range s.pkts {
		end = max(end, p.ts-s.base+s.ticks[i])
	}
	s.extent = end
	startArr, endArr = tickLimit, tickLimit
	n := len(s.pkts)
	for i, p := range s.pkts {
		t0 := p.arrival - ticksToNS(p.ts-s.base, rate)
		if i < anchorWindow {
			startArr = min(startArr, t0)
		}
		if i >= n-anchorWindow {
			endArr = min(endArr, t0)
		}
	}
	return startArr, endArr + ticksToNS(end, rate)
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
