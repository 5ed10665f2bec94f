package export

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
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

// WriteIVF writes a VP8 track as an IVF file (the libvpx container) with a
// 1/clock-rate time base, so frame timestamps are the track's timeline
// positions: losses, pauses and SSRC changes keep their true timing. VP8
// frames are reassembled from their RTP packets (RFC 7741); an incomplete
// frame is dropped together with the inter frames after it until the next
// keyframe, so the file never holds a frame a decoder would misdraw.
func WriteIVF(w io.Writer, tl *Timeline, label string) (IVFStats, error) {
	var st IVFStats
	t, err := tl.Track(label)
	if err != nil {
		return st, err
	}
	if !strings.EqualFold(t.Track.Codec, "VP8") {
		return st, fmt.Errorf("%w: %q is %q, IVF needs VP8", ErrCodec, label, t.Track.Codec)
	}
	frames := assembleVP8(t.Frames, &st)

	bw := bufio.NewWriterSize(w, 64<<10)
	le := binary.LittleEndian
	h := make([]byte, 32)
	copy(h, "DKIF")
	le.PutUint16(h[4:], 0)  // version
	le.PutUint16(h[6:], 32) // header length
	copy(h[8:], "VP80")
	le.PutUint16(h[12:], uint16(st.Width))
	le.PutUint16(h[14:], uint16(st.Height))
	le.PutUint32(h[16:], t.Track.ClockRate) // time base denominator
	le.PutUint32(h[20:], 1)                 // time base numerator
	// Bytes 24-27: libvpx calls them the frame count, but ffmpeg reads
	// (and writes) the stream duration in time-base units there; with a
	// 1/clock-rate time base only the duration gives players the right
	// length, and libvpx ignores the field.
	le.PutUint32(h[24:], uint32(min(t.Length, math.MaxUint32)))
	if _, err := bw.Write(h); err != nil {
		return st, fmt.Errorf("export: writing IVF: %w", err)
	}
	pts := int64(-1)
	for _, f := range frames {
		pts = max(f.pos, pts+1) // strictly increasing even where segments overlap
		var fh [12]byte
		le.PutUint32(fh[0:], uint32(len(f.data)))
		le.PutUint64(fh[4:], uint64(pts))
		if _, err := bw.Write(fh[:]); err != nil {
			return st, fmt.Errorf("export: writing IVF: %w", err)
		}
		if _, err := bw.Write(f.data); err != nil {
			return st, fmt.Errorf("export: writing IVF: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("export: writing IVF: %w", err)
	}
	st.Frames = len(frames)
	return st, nil
}

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

// assembleVP8 groups the timeline's packets into frames: consecutive
// packets of one SSRC with one RTP timestamp, contiguous in sequence,
// beginning with a frame start and ending with the marker bit (or right
// before the next packet in sequence).
func assembleVP8(fs []Frame, st *IVFStats) []vp8Frame {
	var out []vp8Frame
	needKey := true
	// emit takes one group and the packet after it (nil at the end): a
	// group without the marker bit is complete only if nothing is missing
	// between it and the next packet.
	emit := func(group []Frame, next *Frame) {
		if len(group) == 0 {
			return
		}
		last := group[len(group)-1]
		data, complete := []byte(nil), true
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
			needKey = true
			return
		}
		key := data[0]&0x01 == 0 // frame tag: P bit clear on keyframes
		if !key && needKey {
			st.Dropped++
			return
		}
		if key {
			if len(data) < 10 || data[3] != 0x9d || data[4] != 0x01 || data[5] != 0x2a {
				st.Dropped++ // a keyframe without its start code is corrupt
				needKey = true
				return
			}
			if st.Keyframes == 0 {
				st.Width = int(binary.LittleEndian.Uint16(data[6:]) & 0x3FFF)
				st.Height = int(binary.LittleEndian.Uint16(data[8:]) & 0x3FFF)
			}
			st.Keyframes++
			needKey = false
		}
		out = append(out, vp8Frame{pos: group[0].Pos, data: data})
	}
	var group []Frame
	for i := range fs {
		f := fs[i]
		if len(f.Payload) == 0 {
			// Padding only (RFC 3550 §5.1): browsers send these for
			// bandwidth probing on the media SSRC; they carry no VP8.
			continue
		}
		if len(group) > 0 {
			prev := group[len(group)-1]
			start, _, _ := vp8Descriptor(f.Payload)
			if f.SSRC != prev.SSRC || f.Timestamp != prev.Timestamp || prev.Marker ||
				(start && f.Seq == prev.Seq+1) {
				emit(group, &fs[i])
				group = group[:0]
			}
		}
		group = append(group, f)
	}
	emit(group, nil)
	return out
}
