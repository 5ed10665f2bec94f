package export

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/mediaseal/mediaseal/media/codec"
)

// wavHeaderSize is the canonical 44-byte RIFF/WAVE header: RIFF chunk,
// 16-byte PCM "fmt " chunk, "data" chunk header.
const wavHeaderSize = 44

// wavBlock is how many sample frames are interleaved per write.
const wavBlock = 4096

// WriteWAV writes the track labelled label as a mono 16-bit PCM WAV file at
// the track's clock rate, starting at its first sample.
func WriteWAV(w io.Writer, tl *Timeline, label string) error {
	chans, err := wavChannels(tl, []string{label})
	if err != nil {
		return err
	}
	return writeWAVTimeline(w, tl, chans)
}

// WriteWAVStereo writes two tracks as one stereo 16-bit PCM WAV file: left
// on the left channel (the caller, by convention), right on the right (the
// agent). Each track starts at its Offset from the recording start, so the
// two stay aligned as they were heard; the file starts at the earlier of
// the two and both channels are padded with silence to the same length.
func WriteWAVStereo(w io.Writer, tl *Timeline, left, right string) error {
	chans, err := wavChannels(tl, []string{left, right})
	if err != nil {
		return err
	}
	return writeWAVTimeline(w, tl, chans)
}

// wavChannels lays out the WAV channels of labels (one or two) from the
// tracks' Offset and Length; tl needs no Frames.
func wavChannels(tl *Timeline, labels []string) ([]WAVChannel, error) {
	li, l, err := pcmTrack(tl, labels[0])
	if err != nil {
		return nil, err
	}
	if len(labels) == 1 {
		return []WAVChannel{{Track: li, Length: l.Length}}, nil
	}
	left, right := labels[0], labels[1]
	ri, r, err := pcmTrack(tl, right)
	if err != nil {
		return nil, err
	}
	rate := l.Track.ClockRate
	if r.Track.ClockRate != rate {
		return nil, fmt.Errorf("%w: %q at %d Hz, %q at %d Hz", ErrRateMismatch, left, rate, right, r.Track.ClockRate)
	}
	lo, ro := int64(0), int64(0)
	if l.Length > 0 {
		lo = nsToTicks(int64(l.Offset), rate)
	}
	if r.Length > 0 {
		ro = nsToTicks(int64(r.Offset), rate)
	}
	// An empty track has no offset of its own; don't let it push the other.
	switch {
	case l.Length == 0:
		lo = ro
	case r.Length == 0:
		ro = lo
	}
	first := min(lo, ro)
	return []WAVChannel{{Track: li, Delay: lo - first, Length: l.Length}, {Track: ri, Delay: ro - first, Length: r.Length}}, nil
}

// pcmTrack finds a track that decodes to PCM, and its index.
func pcmTrack(tl *Timeline, label string) (uint8, *TrackTimeline, error) {
	for i := range tl.Tracks {
		t := &tl.Tracks[i]
		if t.Track.Label != label {
			continue
		}
		if _, err := codec.Lookup(t.Track.Codec); err != nil || t.Track.Kind == "video" {
			return 0, nil, fmt.Errorf("%w: %q is %s %q", ErrNotDecodable, label, t.Track.Kind, t.Track.Codec)
		}
		return uint8(i), t, nil
	}
	return 0, nil, fmt.Errorf("%w: %q", ErrNoTrack, label)
}

// writeWAVTimeline feeds the frames of the channels' tracks to a
// WAVWriter in position order across channels (a merge of each track's
// frames sorted by position), each tagged with its place in its track's
// order so that overlapping frames resolve as the timeline does: the
// later one wins.
func writeWAVTimeline(w io.Writer, tl *Timeline, chans []WAVChannel) error {
	ww, err := NewWAVWriter(w, tl.header(), chans)
	if err != nil {
		return err
	}
	type cursor struct {
		t     *TrackTimeline
		order []int32 // frame indexes sorted by position
		next  int
	}
	cur := make([]cursor, len(chans))
	for c, ch := range chans {
		t := &tl.Tracks[ch.Track]
		order := make([]int32, len(t.Frames))
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(t.Frames[a].Pos, t.Frames[b].Pos) })
		cur[c] = cursor{t: t, order: order}
	}
	for {
		best := -1
		var bestAt int64
		for c := range cur {
			if cur[c].next == len(cur[c].order) {
				continue
			}
			at := chans[c].Delay + cur[c].t.Frames[cur[c].order[cur[c].next]].Pos
			if best < 0 || at < bestAt {
				best, bestAt = c, at
			}
		}
		if best < 0 {
			break
		}
		i := cur[best].order[cur[best].next]
		cur[best].next++
		if err := ww.writeFrame(best, cur[best].t.Frames[i], int64(i)+1); err != nil {
			return err
		}
	}
	return ww.Close()
}

// WAVChannel is one channel of a WAV file: the frames of track Track,
// Delay samples after the file's first sample, Length samples long (the
// rebuilt track's Length; nothing of the track is written beyond it).
type WAVChannel struct {
	Track  uint8
	Delay  int64
	Length int64
}

// WAVWriter writes 16-bit PCM WAV, one channel per decodable track, fed
// the frames of the rebuilt timeline ([Packet.Frame]) in position order
// across its channels. It holds only the samples it may still have to
// overwrite: everything before the position of the packet at hand is
// final and written out, so memory does not grow with the recording.
// Where frames of a channel overlap, the one fed later wins. Gaps are
// silence.
type WAVWriter struct {
	bw     *bufio.Writer
	chans  []wavChannel
	frames int64 // the file's length in sample frames
	base   int64 // first sample frame not yet written out
	// lag: frames may come this many sample frames before the furthest
	// one fed (hi); 0 when fed in position order.
	lag, hi int64
	pend    []int16
	rank    []int64 // per pending sample: rank of the frame that wrote it (0: none)
	fed     int64
	dec     []int16
	out     []byte
	err     error
	closed  bool
}

type wavChannel struct {
	WAVChannel
	decode codec.DecodeFunc
}

// NewWAVWriter checks the channels against h and writes the WAV header.
//
// The header states the exact sizes: the channels' lengths and delays
// fix the file's length before the first sample, so no seek back is
// needed (the file streams to an HTTP response as well as to disk), and
// every player reads it. The streaming convention for an unknown length
// (0xFFFFFFFF sizes) is read by ffmpeg and sox but refused or played
// short by others, so it is never used.
func NewWAVWriter(w io.Writer, h Header, chans []WAVChannel) (*WAVWriter, error) {
	if len(chans) == 0 || len(chans) > 2 {
		return nil, fmt.Errorf("%w: %d WAV channels (1 or 2)", ErrBadHeader, len(chans))
	}
	ww := &WAVWriter{}
	var rate uint32
	for c, ch := range chans {
		if int(ch.Track) >= len(h.Tracks) || ch.Delay < 0 || ch.Length < 0 {
			return nil, fmt.Errorf("%w: WAV channel %d: track %d, delay %d, length %d", ErrBadHeader, c, ch.Track, ch.Delay, ch.Length)
		}
		t := h.Tracks[ch.Track]
		dec, err := codec.Lookup(t.Codec)
		if err != nil || t.Kind == "video" {
			return nil, fmt.Errorf("%w: %q is %s %q", ErrNotDecodable, t.Label, t.Kind, t.Codec)
		}
		if c > 0 && t.ClockRate != rate {
			return nil, fmt.Errorf("%w: %q at %d Hz, %q at %d Hz", ErrRateMismatch, h.Tracks[chans[0].Track].Label, rate, t.Label, t.ClockRate)
		}
		rate = t.ClockRate
		ww.chans = append(ww.chans, wavChannel{WAVChannel: ch, decode: dec})
		ww.frames = max(ww.frames, ch.Delay+ch.Length)
	}
	nch := int64(len(chans))
	dataLen := ww.frames * nch * 2
	if dataLen > math.MaxUint32-wavHeaderSize+8 {
		return nil, fmt.Errorf("%w: %d bytes of PCM in a WAV file", ErrTooLarge, dataLen)
	}
	ww.bw = bufio.NewWriterSize(w, 64<<10) // header + first block in one write
	var hd [wavHeaderSize]byte
	le := binary.LittleEndian
	copy(hd[0:], "RIFF")
	le.PutUint32(hd[4:], uint32(wavHeaderSize-8+dataLen))
	copy(hd[8:], "WAVE")
	copy(hd[12:], "fmt ")
	le.PutUint32(hd[16:], 16)                 // fmt chunk size
	le.PutUint16(hd[20:], 1)                  // WAVE_FORMAT_PCM
	le.PutUint16(hd[22:], uint16(nch))        // channels
	le.PutUint32(hd[24:], rate)               // sample rate
	le.PutUint32(hd[28:], rate*uint32(nch)*2) // byte rate
	le.PutUint16(hd[32:], uint16(nch*2))      // block align
	le.PutUint16(hd[34:], 16)                 // bits per sample
	copy(hd[36:], "data")
	le.PutUint32(hd[40:], uint32(dataLen))
	if _, err := ww.bw.Write(hd[:]); err != nil {
		return nil, fmt.Errorf("export: writing WAV header: %w", err)
	}
	return ww, nil
}

// WritePacket decodes p's frame into the channel of its track; a packet
// of a track that is no channel's is ignored.
func (ww *WAVWriter) WritePacket(p Packet) error {
	for c, ch := range ww.chans {
		if ch.Track == p.Track {
			ww.fed++
			return ww.writeFrame(c, p.Frame, ww.fed)
		}
	}
	return nil
}

// writeFrame puts f on channel c; rank orders overlapping frames.
func (ww *WAVWriter) writeFrame(c int, f Frame, rank int64) error {
	if ww.err != nil {
		return ww.err
	}
	if ww.closed {
		return fmt.Errorf("%w: WAV writer is closed", ErrOrder)
	}
	ch := ww.chans[c]
	if f.Pos < 0 || f.Pos >= ch.Length {
		return nil
	}
	at := ch.Delay + f.Pos
	if at < ww.base {
		ww.err = fmt.Errorf("%w: WAV frame at sample %d after sample %d was written", ErrOrder, at, ww.base)
		return ww.err
	}
	// Nothing fed from now on starts before hi-lag: what precedes it is final.
	ww.hi = max(ww.hi, at)
	if err := ww.flushTo(ww.hi - ww.lag); err != nil {
		return err
	}
	ww.dec = ch.decode(ww.dec[:0], f.Payload)
	n := min(int64(len(ww.dec)), ch.Length-f.Pos)
	nch := int64(len(ww.chans))
	if need := int((at + n - ww.base) * nch); need > len(ww.pend) {
		// Grown in place: the window's storage is reused once it is as
		// large as a frame or an overlap needs.
		old := len(ww.pend)
		ww.pend = slices.Grow(ww.pend, need-old)[:need]
		ww.rank = slices.Grow(ww.rank, need-old)[:need]
		clear(ww.pend[old:])
		clear(ww.rank[old:])
	}
	for i := range n {
		j := (at+i-ww.base)*nch + int64(c)
		if rank >= ww.rank[j] {
			ww.pend[j], ww.rank[j] = ww.dec[i], rank
		}
	}
	return nil
}

// flushTo writes out every sample frame before to: pending samples, then
// silence.
func (ww *WAVWriter) flushTo(to int64) error {
	nch := int64(len(ww.chans))
	le := binary.LittleEndian
	for ww.base < to {
		n := min(to-ww.base, wavBlock)
		ww.out = ww.out[:0]
		held := min(n, int64(len(ww.pend))/nch)
		for _, v := range ww.pend[:held*nch] {
			ww.out = le.AppendUint16(ww.out, uint16(v))
		}
		for range (n - held) * nch {
			ww.out = append(ww.out, 0, 0)
		}
		if _, err := ww.bw.Write(ww.out); err != nil {
			ww.err = fmt.Errorf("export: writing WAV data: %w", err)
			return ww.err
		}
		// Keep the rest of the window at the front: its storage is reused.
		k := copy(ww.pend, ww.pend[held*nch:])
		ww.pend = ww.pend[:k]
		ww.rank = ww.rank[:copy(ww.rank, ww.rank[held*nch:])]
		ww.base += n
	}
	return nil
}

// Close writes out what is pending and the silence to the file's length,
// and flushes. It does not close the underlying writer. Idempotent.
func (ww *WAVWriter) Close() error {
	if ww.closed || ww.err != nil {
		return ww.err
	}
	if err := ww.flushTo(ww.frames); err != nil {
		return err
	}
	ww.closed = true
	if err := ww.bw.Flush(); err != nil {
		ww.err = fmt.Errorf("export: writing WAV data: %w", err)
	}
	return ww.err
}
