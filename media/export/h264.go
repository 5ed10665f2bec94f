package export

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// H.264 NAL unit types (ITU-T H.264 Table 7-1) and RTP payload structures
// (RFC 6184 §5.2) that packetization-mode 1 uses.
const (
	nalSlice = 1  // coded slice of a non-IDR picture
	nalIDR   = 5  // coded slice of an IDR picture
	nalSPS   = 7  // sequence parameter set
	nalPPS   = 8  // picture parameter set
	nalSTAPA = 24 // single-time aggregation packet
	nalFUA   = 28 // fragmentation unit A
)

// annexBStartCode precedes every NAL unit of an Annex B byte stream; the
// 4-byte form (zero_byte + start code) is valid everywhere.
var annexBStartCode = []byte{0, 0, 0, 1}

// H264Stats says what [WriteH264] wrote.
type H264Stats struct {
	Frames    int // access units written
	Keyframes int // of which IDR access units
	// Dropped counts access units left out: malformed or incomplete (a
	// packet lost), inter frames after a loss until the next IDR, and IDR
	// frames with no parameter set to decode them with.
	Dropped       int
	Width, Height int // from the first sequence parameter set
}

// h264AU is one reassembled access unit: the NAL units of one picture.
type h264AU struct {
	pos   int64
	key   bool
	nalus [][]byte // slices of the RTP payloads, or reassembled FU-A units
}

// WriteH264 writes an H.264 track as an Annex B elementary stream through
// an [H264Writer] fed the track's frames.
func WriteH264(w io.Writer, tl *Timeline, label string) (H264Stats, error) {
	var hw *H264Writer
	err := feedTrack(tl, label, func(h Header, track uint8, _ int64) (Writer, error) {
		var err error
		hw, err = NewH264Writer(w, h, track)
		return hw, err
	})
	if hw == nil {
		return H264Stats{}, err
	}
	return hw.Stats(), err
}

// H264Writer writes an H.264 track as an Annex B elementary stream (the
// ".h264" files every decoder reads), fed the track's packets in timeline
// order. Access units are reassembled from their RTP packets (RFC 6184:
// single NAL unit packets, STAP-A and FU-A); an incomplete one is dropped
// together with every frame after it until the next IDR, and the last
// parameter sets seen are repeated before an IDR that arrives without
// them, so the stream never holds a frame a decoder would misdraw. Annex B
// carries no timestamps: use [WriteMKV] for a file with the call's timing.
// It holds one access unit's packets and the last parameter sets.
type H264Writer struct {
	bw     *bufio.Writer
	track  uint8
	asm    h264Assembler
	closed bool
	st     H264Stats
}

// NewH264Writer checks that track is H.264.
func NewH264Writer(w io.Writer, h Header, track uint8) (*H264Writer, error) {
	if int(track) >= len(h.Tracks) {
		return nil, fmt.Errorf("%w: track %d", ErrNoTrack, track)
	}
	t := h.Tracks[track]
	if !isH264(t) {
		return nil, fmt.Errorf("%w: %q is %q, Annex B needs H264", ErrCodec, t.Label, t.Codec)
	}
	hw := &H264Writer{bw: bufio.NewWriterSize(w, 64<<10), track: track}
	hw.asm = h264Assembler{d: h264Depacketizer{st: &hw.st, needKey: true, emit: hw.au}, copyPayloads: true}
	return hw, nil
}

// au writes one access unit.
func (hw *H264Writer) au(a h264AU) {
	for _, n := range a.nalus {
		hw.bw.Write(annexBStartCode)
		hw.bw.Write(n)
	}
}

// WritePacket adds p to the access unit being reassembled, writing the
// previous one once p shows it is whole.
func (hw *H264Writer) WritePacket(p Packet) error {
	if hw.closed {
		return fmt.Errorf("%w: H.264 writer is closed", ErrOrder)
	}
	if p.Track == hw.track {
		hw.asm.add(p.Frame)
	}
	return nil // bufio keeps the first write error for Close
}

// Close writes the last access unit and flushes. Idempotent.
func (hw *H264Writer) Close() error {
	if !hw.closed {
		hw.closed = true
		hw.asm.end()
	}
	if err := hw.bw.Flush(); err != nil { // bufio keeps the first write error
		return fmt.Errorf("export: writing H.264: %w", err)
	}
	return nil
}

// Stats says what has been written so far.
func (hw *H264Writer) Stats() H264Stats { return hw.st }

func isH264(t Track) bool {
	return strings.EqualFold(t.Codec, "H264") || strings.EqualFold(t.Codec, "H.264")
}

// h264Depacketizer reassembles access units from a track's packets.
type h264Depacketizer struct {
	st       *H264Stats
	emit     func(h264AU) // each access unit kept, valid only during the call when payloads are reused
	needKey  bool         // a reference may be missing: drop until an IDR
	sps, pps []byte       // the last parameter sets seen (copies)
	lastSSRC uint32
	lastSeq  int64
	started  bool
}

// assembleH264 groups the timeline's packets into access units (see
// h264Assembler), for a container that needs them all before it writes.
func assembleH264(fs []Frame, st *H264Stats) []h264AU {
	var out []h264AU
	a := h264Assembler{d: h264Depacketizer{st: st, needKey: true, emit: func(au h264AU) { out = append(out, au) }}}
	for _, f := range fs {
		a.add(f)
	}
	a.end()
	return out
}

// h264Assembler groups packets into access units as they come: packets
// of one SSRC with one RTP timestamp, the last one carrying the marker bit
// (or followed in sequence by a packet of the next timestamp).
type h264Assembler struct {
	d     h264Depacketizer
	group []Frame
	// Padding-only packets (bandwidth probing) carry no NAL unit but use
	// sequence numbers; numbering them out keeps them from looking like
	// losses, while a packet never received still leaves a gap.
	pad map[uint32]int64
	// copyPayloads copies each packet's payload into arena (a streaming
	// feed may reuse its buffers); the access units then live only until
	// the next one.
	copyPayloads bool
	arena        []byte
}

func (a *h264Assembler) add(f Frame) {
	if len(f.Payload) == 0 {
		if a.pad == nil {
			a.pad = map[uint32]int64{}
		}
		a.pad[f.SSRC]++
		return
	}
	f.Seq -= a.pad[f.SSRC]
	if n := len(a.group); n > 0 {
		prev := &a.group[n-1]
		if f.SSRC != prev.SSRC || f.Timestamp != prev.Timestamp || prev.Marker {
			a.d.group(a.group, &f)
			a.group, a.arena = a.group[:0], a.arena[:0]
		}
	}
	if a.copyPayloads {
		n := len(a.arena)
		a.arena = append(a.arena, f.Payload...)
		f.Payload = a.arena[n:len(a.arena):len(a.arena)]
	}
	a.group = append(a.group, f)
}

func (a *h264Assembler) end() {
	if len(a.group) > 0 {
		a.d.group(a.group, nil)
	}
	a.group, a.arena = a.group[:0], a.arena[:0]
}

// group decides about one access unit; next is the packet after it (nil at
// the end of the track).
func (d *h264Depacketizer) group(g []Frame, next *Frame) {
	first, last := g[0], g[len(g)-1]
	// A gap before the group lost part of this picture or a whole earlier
	// one; a new SSRC is a new encoder. Either way, inter frames may now
	// reference a picture the decoder never had.
	gap := !d.started || first.SSRC != d.lastSSRC || first.Seq != d.lastSeq+1
	d.started, d.lastSSRC, d.lastSeq = true, last.SSRC, last.Seq
	if gap {
		d.needKey = true
	}
	nalus, ok := depacketizeH264(g)
	// Without the marker bit the picture is known to be whole only when
	// the next packet follows in sequence (it starts the next picture).
	if !last.Marker && (next == nil || next.SSRC != last.SSRC || next.Seq != last.Seq+1) {
		ok = false
	}
	key, vcl, hasSPS, hasPPS := false, false, false, false
	if ok {
		for _, n := range nalus {
			switch n[0] & 0x1F {
			case nalSPS:
				d.sps, hasSPS = keep(d.sps, n), true
			case nalPPS:
				d.pps, hasPPS = keep(d.pps, n), true
			case nalIDR:
				key = true
				fallthrough
			case nalSlice:
				// first_mb_in_slice is ue(v), 0 coded as a single 1 bit:
				// the picture's first slice must be here after a gap.
				if !vcl && gap && (len(n) < 2 || n[1]&0x80 == 0) {
					ok = false
				}
				vcl = true
			}
		}
	}
	switch {
	case !ok:
		d.st.Dropped++
		d.needKey = true
		return
	case !vcl:
		return // parameter sets or SEI alone: kept for the next IDR
	case !key && d.needKey:
		d.st.Dropped++
		return
	}
	if key && (!hasSPS || !hasPPS) {
		if d.sps == nil || d.pps == nil {
			d.st.Dropped++ // nothing to decode it with
			d.needKey = true
			return
		}
		ps := make([][]byte, 0, len(nalus)+2)
		if !hasSPS {
			ps = append(ps, d.sps)
		}
		if !hasPPS {
			ps = append(ps, d.pps)
		}
		nalus = append(ps, nalus...)
	}
	if key {
		if d.st.Keyframes == 0 {
			for _, n := range nalus {
				if n[0]&0x1F == nalSPS {
					if sps, err := parseSPS(n); err == nil {
						d.st.Width, d.st.Height = sps.width, sps.height
					}
					break
				}
			}
		}
		d.st.Keyframes++
		d.needKey = false
	}
	d.st.Frames++
	d.emit(h264AU{pos: first.Pos, key: key, nalus: nalus})
}

// keep returns a copy of n to hold across access units, reusing old when
// the parameter set did not change (they repeat before every IDR).
func keep(old, n []byte) []byte {
	if bytes.Equal(old, n) {
		return old
	}
	return bytes.Clone(n)
}

// depacketizeH264 returns the NAL units of one access unit's packets, or
// false when a packet is missing (a sequence gap), malformed, of a type
// packetization-mode 1 does not use, or a fragmented unit is incomplete.
func depacketizeH264(g []Frame) ([][]byte, bool) {
	nalus := make([][]byte, 0, len(g))
	var fu []byte // the FU-A unit being reassembled
	for i, f := range g {
		if i > 0 && f.Seq != g[i-1].Seq+1 {
			return nil, false
		}
		p := f.Payload
		if p[0]&0x80 != 0 { // forbidden_zero_bit
			return nil, false
		}
		switch typ := p[0] & 0x1F; {
		case typ >= 1 && typ <= 23: // single NAL unit packet
			if fu != nil {
				return nil, false
			}
			nalus = append(nalus, p)
		case typ == nalSTAPA: // 16-bit size, NAL unit; repeated
			if fu != nil || len(p) < 2 {
				return nil, false
			}
			for q := p[1:]; len(q) > 0; {
				if len(q) < 2 {
					return nil, false
				}
				n := int(binary.BigEndian.Uint16(q))
				if n == 0 || len(q) < 2+n || q[2]&0x80 != 0 {
					return nil, false
				}
				nalus = append(nalus, q[2:2+n])
				q = q[2+n:]
			}
		case typ == nalFUA: // FU indicator, FU header (S E R type), fragment
			if len(p) < 3 {
				return nil, false
			}
			s, e, ntyp := p[1]&0x80 != 0, p[1]&0x40 != 0, p[1]&0x1F
			switch {
			case s && e, s == (fu != nil), !s && fu[0]&0x1F != ntyp:
				// both bits, a start inside a unit, a continuation
				// without a start, or a fragment of another type
				return nil, false
			case s:
				fu = make([]byte, 1, 1+fuSize(g[i:]))
				fu[0] = p[0]&0xE0 | ntyp // F and NRI from the indicator
			}
			fu = append(fu, p[2:]...)
			if e {
				nalus = append(nalus, fu)
				fu = nil
			}
		default: // STAP-B, MTAP, FU-B: interleaved mode only; reserved
			return nil, false
		}
	}
	if fu != nil || len(nalus) == 0 {
		return nil, false
	}
	return nalus, true
}

// fuSize adds up the fragment bytes of the FU-A unit starting at g[0], so
// that reassembly allocates once.
func fuSize(g []Frame) int {
	n := 0
	for _, f := range g {
		if len(f.Payload) < 3 || f.Payload[0]&0x1F != nalFUA {
			break
		}
		n += len(f.Payload) - 2
		if f.Payload[1]&0x40 != 0 {
			break
		}
	}
	return n
}
