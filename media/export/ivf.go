package export

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// IVFStats says what [WriteIVF] wrote.
type IVFStats struct {
	Frames    int // frames written
	Keyframes int
	// Dropped counts frames left out: incomplete (a packet lost), or
	// inter frames whose reference was lost, until the next keyframe.
	Dropped       int
	Width, Height int // from the first keyframe
}

// vp8Frame is one reassembled VP8 frame.
type vp8Frame struct {
	pos  int64
	data []byte
}

// WriteIVF writes a VP8 track as an IVF file through an [IVFWriter] fed
// the track's frames.
func WriteIVF(w io.Writer, tl *Timeline, label string) (IVFStats, error) {
	var iw *IVFWriter
	err := feedTrack(tl, label, func(h Header, track uint8, length int64) (Writer, error) {
		var err error
		iw, err = NewIVFWriter(w, h, track, length)
		return iw, err
	})
	if iw == nil {
		return IVFStats{}, err
	}
	return iw.Stats(), err
}

// IVFWriter writes a VP8 track as an IVF file (the libvpx container) with
// a 1/clock-rate time base, so frame timestamps are the track's timeline
// positions: losses, pauses and SSRC changes keep their true timing. It is
// fed the track's packets in timeline order and reassembles VP8 frames
// from them (RFC 7741); an incomplete frame is dropped together with the
// inter frames after it until the next keyframe, so the file never holds
// a frame a decoder would misdraw. It holds one frame's packets at most.
type IVFWriter struct {
	bw      *bufio.Writer
	track   uint8
	rate    uint32
	length  int64
	asm     vp8Assembler
	pts     int64
	fh      [12]byte       // frame header; a field, so that writing it allocates nothing
	out     func(vp8Frame) // iw.frame, bound once
	started bool           // file header written
	closed  bool
	err     error
}

// NewIVFWriter checks that track is VP8; length is its timeline's length
// in clock ticks. The file header waits for the first frame, a keyframe,
// which gives the picture size.
func NewIVFWriter(w io.Writer, h Header, track uint8, length int64) (*IVFWriter, error) {
	if int(track) >= len(h.Tracks) {
		return nil, fmt.Errorf("%w: track %d", ErrNoTrack, track)
	}
	t := h.Tracks[track]
	if !strings.EqualFold(t.Codec, "VP8") {
		return nil, fmt.Errorf("%w: %q is %q, IVF needs VP8", ErrCodec, t.Label, t.Codec)
	}
	iw := &IVFWriter{bw: bufio.NewWriterSize(w, 64<<10), track: track, rate: t.ClockRate, length: length,
		asm: vp8Assembler{needKey: true}, pts: -1}
	iw.out = iw.frame
	return iw, nil
}

// WritePacket adds p to the frame being reassembled, writing the
// previous frame once p shows it is complete.
func (iw *IVFWriter) WritePacket(p Packet) error {
	if iw.closed {
		return fmt.Errorf("%w: IVF writer is closed", ErrOrder)
	}
	if p.Track != iw.track || iw.err != nil {
		return iw.err
	}
	iw.asm.add(p.Frame, iw.out)
	return iw.err
}

// header writes the IVF file header.
func (iw *IVFWriter) header() {
	iw.started = true
	le := binary.LittleEndian
	h := make([]byte, 32)
	copy(h, "DKIF")
	le.PutUint16(h[4:], 0)  // version
	le.PutUint16(h[6:], 32) // header length
	copy(h[8:], "VP80")
	le.PutUint16(h[12:], uint16(iw.asm.st.Width))
	le.PutUint16(h[14:], uint16(iw.asm.st.Height))
	le.PutUint32(h[16:], iw.rate) // time base denominator
	le.PutUint32(h[20:], 1)       // time base numerator
	// Bytes 24-27: libvpx calls them the frame count, but ffmpeg reads
	// (and writes) the stream duration in time-base units there; with a
	// 1/clock-rate time base only the duration gives players the right
	// length, and libvpx ignores the field.
	le.PutUint32(h[24:], uint32(min(iw.length, math.MaxUint32)))
	if _, err := iw.bw.Write(h); err != nil {
		iw.err = fmt.Errorf("export: writing IVF: %w", err)
	}
}

// frame writes one reassembled frame (the first is always a keyframe).
func (iw *IVFWriter) frame(f vp8Frame) {
	if !iw.started {
		iw.header()
	}
	if iw.err != nil {
		return
	}
	iw.pts = max(f.pos, iw.pts+1) // strictly increasing even where segments overlap
	fh := iw.fh[:]
	le := binary.LittleEndian
	le.PutUint32(fh[0:], uint32(len(f.data)))
	le.PutUint64(fh[4:], uint64(iw.pts))
	if _, err := iw.bw.Write(fh); err != nil {
		iw.err = fmt.Errorf("export: writing IVF: %w", err)
		return
	}
	if _, err := iw.bw.Write(f.data); err != nil {
		iw.err = fmt.Errorf("export: writing IVF: %w", err)
		return
	}
	iw.asm.st.Frames++
}

// Close writes the last frame (complete only with its marker bit) and
// flushes. Idempotent.
func (iw *IVFWriter) Close() error {
	if iw.closed {
		return iw.err
	}
	iw.closed = true
	iw.asm.end(iw.out)
	if !iw.started {
		iw.header()
	}
	if iw.err == nil {
		if err := iw.bw.Flush(); err != nil {
			iw.err = fmt.Errorf("export: writing IVF: %w", err)
		}
	}
	return iw.err
}

// Stats says what has been written so far.
func (iw *IVFWriter) Stats() IVFStats { return iw.asm.st }

// vp8Descriptor parses the RFC 7741 payload descriptor and returns whether
// the packet starts a frame (S=1, partition 0) and the VP8 bytes.
func vp8Descriptor(p []byte) (start bool, payload []byte, ok bool) {
	if len(p) < 1 {
		return false, nil, false
	}
	start = p[0]&0x10 != 0 && p[0]&0x07 == 0
	n := 1
	if p[0]&0x80 != 0 { // X: extension byte
		if len(p) < 2 {
			return false, nil, false
		}
		x := p[1]
		n = 2
		if x&0x80 != 0 { // I: picture ID, 7 or 15 bits
			if len(p) < n+1 {
				return false, nil, false
			}
			if p[n]&0x80 != 0 {
				n += 2
			} else {
				n++
			}
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			n++
		}
		if x&0x30 != 0 { // T or K: TID/Y/KEYIDX
			n++
		}
	}
	if len(p) <= n {
		return false, nil, false
	}
	return start, p[n:], true
}

// assembleVP8 groups the timeline's packets into frames (see
// vp8Assembler), for a container that needs them all before it writes.
func assembleVP8(fs []Frame, st *IVFStats) []vp8Frame {
	var out []vp8Frame
	a := vp8Assembler{needKey: true}
	collect := func(f vp8Frame) { out = append(out, vp8Frame{pos: f.pos, data: slices.Clone(f.data)}) }
	for _, f := range fs {
		a.add(f, collect)
	}
	a.end(collect)
	*st = a.st
	return out
}

// vp8Assembler groups packets into frames as they come: consecutive
// packets of one SSRC with one RTP timestamp, contiguous in sequence,
// beginning with a frame start and ending with the marker bit (or right
// before the next packet in sequence). It holds the packets of one frame.
type vp8Assembler struct {
	needKey bool
	group   []Frame
	arena   []byte // the group's payloads, copied: a feed may reuse its buffers
	data    []byte // the frame being emitted, reused
	st      IVFStats
}

// add takes the next packet; a frame it shows complete goes to out, whose
// data is valid only during the call.
func (a *vp8Assembler) add(f Frame, out func(vp8Frame)) {
	if len(f.Payload) == 0 {
		// Padding only (RFC 3550 §5.1): browsers send these for
		// bandwidth probing on the media SSRC; they carry no VP8.
		return
	}
	if len(a.group) > 0 {
		prev := a.group[len(a.group)-1]
		start, _, _ := vp8Descriptor(f.Payload)
		if f.SSRC != prev.SSRC || f.Timestamp != prev.Timestamp || prev.Marker ||
			(start && f.Seq == prev.Seq+1) {
			a.emit(&f, out)
			a.group, a.arena = a.group[:0], a.arena[:0]
		}
	}
	// Copy the payload; the arena's earlier slices stay valid as
	// Payload points into whichever backing array held it.
	n := len(a.arena)
	a.arena = append(a.arena, f.Payload...)
	f.Payload = a.arena[n:len(a.arena):len(a.arena)]
	a.group = append(a.group, f)
}

// end emits the last group.
func (a *vp8Assembler) end(out func(vp8Frame)) {
	a.emit(nil, out)
	a.group, a.arena = a.group[:0], a.arena[:0]
}

// emit takes the group and the packet after it (nil at the end): a group
// without the marker bit is complete only if nothing is missing between
// it and the next packet.
func (a *vp8Assembler) emit(next *Frame, out func(vp8Frame)) {
	group, st := a.group, &a.st
	if len(group) == 0 {
		return
	}
	last := group[len(group)-1]
	data, complete := a.data[:0], true
	for i, f := range group {
		start, payload, ok := vp8Descriptor(f.Payload)
		if !ok || start != (i == 0) || (i > 0 && f.Seq != group[i-1].Seq+1) {
			complete = false
			break
		}
		data = append(data, payload...)
	}
	if !last.Marker && (next == nil || next.SSRC != last.SSRC || next.Seq != last.Seq+1) {
		complete = false
	}
	if !complete || len(data) < 3 {
		st.Dropped++
		a.needKey = true
		return
	}
	key := data[0]&0x01 == 0 // frame tag: P bit clear on keyframes
	if !key && a.needKey {
		st.Dropped++
		return
	}
	if key {
		if len(data) < 10 || data[3] != 0x9d || data[4] != 0x01 || data[5] != 0x2a {
			st.Dropped++ // a keyframe without its start code is corrupt
			a.needKey = true
			return
		}
		if st.Keyframes == 0 {
			st.Width = int(binary.LittleEndian.Uint16(data[6:]) & 0x3FFF)
			st.Height = int(binary.LittleEndian.Uint16(data[8:]) & 0x3FFF)
		}
		st.Keyframes++
		a.needKey = false
	}
	a.data = data
	out(vp8Frame{pos: group[0].Pos, data: data}) // data is valid only during the call
}
