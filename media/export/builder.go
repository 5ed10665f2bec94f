package export

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pion/rtp"

	"github.com/mediaseal/mediaseal/media/codec"
)

// DefaultMaxDuration caps a rebuilt track when [Options.MaxDuration] is zero.
const DefaultMaxDuration = 12 * time.Hour

// Timeline reconstruction constants.
const (
	// maxArrival: a record claiming to arrive later than this after the
	// start is malformed (it would otherwise stretch the timeline).
	maxArrival = int64(31 * 24 * time.Hour)
	// A packet of the previous run's SSRC that arrives shortly after a new
	// SSRC took over, and continues that run's numbering, is a late
	// straggler of that run rather than the start of a new one.
	stragglerWindow = int64(300 * time.Millisecond)
	stragglerSeq    = 8
	// maxDropout: a sequence number this far from the highest one seen
	// (a minute of 20 ms packets) means the source restarted its numbering
	// (an SBC re-anchoring media keeps the SSRC but not seq/timestamp),
	// as in RFC 3550 appendix A.1; it is not loss.
	maxDropout = 3000
)

// Options bounds the work of [Build] and [NewBuilder].
type Options struct {
	// MaxDuration caps each rebuilt track; zero means DefaultMaxDuration.
	MaxDuration time.Duration
	// NoPCM leaves TrackTimeline.PCM nil: a caller that writes WAV
	// decodes the frames as it streams them and need not hold a second,
	// decoded copy of every track.
	NoPCM bool
}

// Builder rebuilds track timelines from records fed one at a time with
// [Builder.Add]; [Builder.Finish] returns the result. Memory is
// proportional to the media kept (payloads are copied, so a Source may
// reuse its buffers). A Builder is not safe for concurrent use.
type Builder struct {
	h       Header
	maxDur  time.Duration
	noPCM   bool
	tracks  []*trackState
	ignored int   // records that name no track, events, unknown types
	lastArr int64 // latest valid arrival of any record
}

// packet is one received RTP packet with its numbering extended to 64 bits.
type packet struct {
	seq     int64 // extended sequence number
	ts      int64 // extended RTP timestamp
	gen     int   // numbering generation of the SSRC (bumped at a restart)
	rawTS   uint32
	arrival int64
	ssrc    uint32
	pt      uint8
	marker  bool
	payload []byte
}

// numbering extends one source's 16-bit sequence numbers and 32-bit
// timestamps, unwrapping relative to the packets seen so far.
type numbering struct {
	maxSeq int64 // highest extended sequence number
	lastTS int64 // extended timestamp of the previous packet (arrival order)
	seen   map[int64]struct{}
}

// accept notes packet seq (timestamp ts) as received, counting it as
// reordered when a higher number came first; false for a duplicate.
func (nb *numbering) accept(seq, ts int64, sum *Summary) bool {
	if _, dup := nb.seen[seq]; dup {
		sum.Duplicates++
		return false
	}
	nb.seen[seq] = struct{}{}
	if seq < nb.maxSeq {
		sum.Reordered++
	}
	nb.maxSeq = max(nb.maxSeq, seq)
	nb.lastTS = ts
	return true
}

// ssrcState holds every numbering a source used; the index is the
// generation. More than one only after a restart.
type ssrcState struct {
	gens []*numbering
}

// locate finds the generation whose numbering seq continues (the newest
// first, so late packets of an older one still find it), or -1, and the
// signed step from that generation's highest sequence number.
func (s *ssrcState) locate(seq uint16) (gen int, step int64) {
	for g := len(s.gens) - 1; g >= 0; g-- {
		d := int64(int16(seq - uint16(s.gens[g].maxSeq)))
		if d <= maxDropout && d >= -maxDropout {
			return g, d
		}
	}
	return -1, 0
}

// run is a stretch of one SSRC (and numbering generation) between pauses
// and source changes: the unit whose packets are
// ordered by sequence number and counted for loss.
type run struct {
	ssrc    uint32
	gen     int
	epoch   int
	lastArr int64
	maxSeq  int64
	pkts    []packet
}

type trackState struct {
	t       Track
	decode  codec.DecodeFunc // nil when the codec has no PCM decoder
	ssrcs   map[uint32]*ssrcState
	runs    []*run
	epoch   int   // bumped at every Resume: packets after it start new runs
	paused  bool  // between Pause and Resume
	pauseAt int64 // arrival of the open Pause
	pauseNS int64 // total of closed pause spans
	lastEnd int64 // arrival at which the latest pause span ended; -1 if none
	sum     Summary
}

// NewBuilder checks the header and returns an empty Builder.
func NewBuilder(h Header, o Options) (*Builder, error) {
	if len(h.Tracks) >= int(AllTracks) {
		return nil, fmt.Errorf("%w: %d tracks (max %d)", ErrBadHeader, len(h.Tracks), AllTracks-1)
	}
	if o.MaxDuration < 0 {
		return nil, fmt.Errorf("%w: MaxDuration %v", ErrBadHeader, o.MaxDuration)
	}
	if o.MaxDuration == 0 {
		o.MaxDuration = DefaultMaxDuration
	}
	b := &Builder{h: h, maxDur: o.MaxDuration, noPCM: o.NoPCM}
	for i, t := range h.Tracks {
		if t.ClockRate == 0 {
			return nil, fmt.Errorf("%w: track %d (%q) has clock rate 0", ErrBadHeader, i, t.Label)
		}
		ts := &trackState{t: t, ssrcs: map[uint32]*ssrcState{}, lastEnd: -1}
		ts.sum.Label = t.Label
		if dec, err := codec.Lookup(t.Codec); err == nil && t.Kind != "video" {
			ts.decode = dec
		}
		b.tracks = append(b.tracks, ts)
	}
	return b, nil
}

// Build reads src to the end and rebuilds every track. Malformed packets
// are counted in the tracks' summaries, never fatal; an error from src is
// returned wrapped.
func Build(h Header, src Source, o Options) (*Timeline, error) {
	b, err := NewBuilder(h, o)
	if err != nil {
		return nil, err
	}
	for {
		r, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("export: reading records: %w", err)
		}
		b.Add(r)
	}
	return b.Finish()
}

// Add takes one record. Bad records are counted, never an error.
func (b *Builder) Add(r Record) {
	valid := r.Arrival >= 0 && r.Arrival <= maxArrival
	if valid { // the latest record of any kind marks the end of the recording
		b.lastArr = max(b.lastArr, r.Arrival)
	}
	switch r.Type {
	case RecordPacket:
		if int(r.Track) >= len(b.tracks) {
			b.ignored++
			return
		}
		t := b.tracks[r.Track]
		t.sum.Packets++
		if !valid {
			t.sum.Malformed++
			return
		}
		t.addPacket(r)
	case RecordPause, RecordResume:
		if !valid || (r.Track != AllTracks && int(r.Track) >= len(b.tracks)) {
			b.ignored++
			return
		}
		for i, t := range b.tracks {
			if r.Track == AllTracks || int(r.Track) == i {
				t.pauseEvent(r.Type == RecordPause, r.Arrival)
			}
		}
	default: // events and types from a newer format carry no media
		b.ignored++
	}
}

func (t *trackState) pauseEvent(pause bool, at int64) {
	switch {
	case pause && !t.paused:
		t.paused, t.pauseAt = true, at
		t.sum.Pauses++
	case !pause && t.paused:
		t.paused = false
		t.pauseNS += max(0, at-t.pauseAt)
		t.lastEnd = max(t.lastEnd, at)
		t.epoch++
	}
}

// isRTCP reports whether b looks like RTCP multiplexed on the RTP port
// (RFC 5761: packet types 192-223 land on RTP payload types 64-95; the
// ones in use, 200-204, are 72-76).
func isRTCP(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	pt := b[1] & 0x7F
	return pt >= 72 && pt <= 76
}

func (t *trackState) addPacket(r Record) {
	p, seq, ts, gen, _, ok := numberPacket(r, t.paused, t.ssrcs, &t.sum)
	if !ok {
		return
	}
	pk := packet{
		seq: seq, ts: ts, gen: gen, rawTS: p.Timestamp, arrival: r.Arrival,
		ssrc: p.SSRC, pt: p.PayloadType, marker: p.Marker,
		payload: append([]byte(nil), p.Payload...),
	}
	ru := t.runFor(pk)
	ru.pkts = append(ru.pkts, pk)
	ru.lastArr = max(ru.lastArr, pk.arrival)
	ru.maxSeq = max(ru.maxSeq, pk.seq)
}

// numberPacket parses r and extends its numbering against the track's
// sources (ssrcs), counting in sum what goes no further (paused,
// malformed, RTCP, duplicate); ok is false for those. nb is the
// numbering the packet belongs to.
func numberPacket(r Record, paused bool, ssrcs map[uint32]*ssrcState, sum *Summary) (p rtp.Packet, seq, ts int64, gen int, nb *numbering, ok bool) {
	if paused { // PCI secure pause: whatever got in is never exported
		sum.DroppedPaused++
		return p, 0, 0, 0, nil, false
	}
	if len(r.Data) == 0 || r.Data[0]>>6 != 2 {
		sum.Malformed++
		return p, 0, 0, 0, nil, false
	}
	if isRTCP(r.Data) {
		sum.NonMedia++
		return p, 0, 0, 0, nil, false
	}
	if err := p.Unmarshal(r.Data); err != nil {
		sum.Malformed++
		return p, 0, 0, 0, nil, false
	}
	st := ssrcs[p.SSRC]
	if st == nil {
		st = &ssrcState{}
		ssrcs[p.SSRC] = st
		sum.SSRCs++
	}
	var d int64
	gen, d = st.locate(p.SequenceNumber)
	if gen < 0 {
		// A new source, or one that restarted its numbering: start afresh.
		if len(st.gens) > 0 {
			sum.Restarts++
		}
		gen = len(st.gens)
		st.gens = append(st.gens, &numbering{seen: map[int64]struct{}{}})
		seq, ts = int64(p.SequenceNumber), int64(p.Timestamp)
		st.gens[gen].maxSeq = seq
	} else {
		// Unwrap against the highest sequence number and the previous
		// timestamp: the signed 16/32-bit difference is the true step as
		// long as reordering stays within half the number space.
		nb = st.gens[gen]
		seq = nb.maxSeq + d
		ts = nb.lastTS + int64(int32(p.Timestamp-uint32(nb.lastTS)))
	}
	if !st.gens[gen].accept(seq, ts, sum) {
		return p, 0, 0, 0, nil, false
	}
	return p, seq, ts, gen, st.gens[gen], true
}

// runFor picks the run a packet belongs to, opening a new one when the
// SSRC changes or a pause ended.
func (t *trackState) runFor(p packet) *run {
	n := len(t.runs)
	if n > 0 {
		if cur := t.runs[n-1]; cur.ssrc == p.ssrc && cur.gen == p.gen && cur.epoch == t.epoch {
			return cur
		}
	}
	if n > 1 {
		prev := t.runs[n-2]
		if prev.ssrc == p.ssrc && prev.gen == p.gen && prev.epoch == t.epoch &&
			p.arrival-prev.lastArr <= stragglerWindow && p.seq <= prev.maxSeq+stragglerSeq {
			return prev
		}
	}
	ru := &run{ssrc: p.ssrc, gen: p.gen, epoch: t.epoch, lastArr: p.arrival, maxSeq: p.seq}
	t.runs = append(t.runs, ru)
	return ru
}
