package export

import (
	"bufio"
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

// WriteH264 writes an H.264 track as an Annex B elementary stream (the
// ".h264" files every decoder reads). Access units are reassembled from
// their RTP packets (RFC 6184: single NAL unit packets, STAP-A and FU-A);
// an incomplete one is dropped together with every frame after it until
// the next IDR, and the last parameter sets seen are repeated before an
// IDR that arrives without them, so the stream never holds a frame a
// decoder would misdraw. Annex B carries no timestamps: use [WriteMKV]
// for a file with the call's timing.
func WriteH264(w io.Writer, tl *Timeline, label string) (H264Stats, error) {
	var st H264Stats
	t, err := tl.Track(label)
	if err != nil {
		return st, err
	}
	if !isH264(t.Track) {
		return st, fmt.Errorf("%w: %q is %q, Annex B needs H264", ErrCodec, label, t.Track.Codec)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, au := range assembleH264(t.Frames, &st) {
		for _, n := range au.nalus {
			bw.Write(annexBStartCode)
			bw.Write(n)
		}
	}
	if err := bw.Flush(); err != nil { // bufio keeps the first write error
		return st, fmt.Errorf("export: writing H.264: %w", err)
	}
	return st, nil
}

func isH264(t Track) bool {
	return strings.EqualFold(t.Codec, "H264") || strings.EqualFold(t.Codec, "H.264")
}

// h264Depacketizer reassembles access units from a track's packets.
type h264Depacketizer struct {
	st       *H264Stats
	out      []h264AU
	needKey  bool   // a reference may be missing: drop until an IDR
	sps, pps []byte // the last parameter sets seen
	lastSSRC uint32
	lastSeq  int64
	started  bool
}

// assembleH264 groups the timeline's packets into access units: packets
// of one SSRC with one RTP timestamp, the last one carrying the marker bit
// (or followed in sequence by a packet of the next timestamp).
func assembleH264(fs []Frame, st *H264Stats) []h264AU {
	d := &h264Depacketizer{st: st, needKey: true}
	// Padding-only packets (bandwidth probing) carry no NAL unit but use
	// sequence numbers; numbering them out keeps them from looking like
	// losses, while a packet never received still leaves a gap.
	var pad map[uint32]int64
	var group []Frame
	for i := range fs {
		f := fs[i]
		if len(f.Payload) == 0 {
			if pad == nil {
				pad = map[uint32]int64{}
			}
			pad[f.SSRC]++
			continue
		}
		f.Seq -= pad[f.SSRC]
		if n := len(group); n > 0 {
			prev := &group[n-1]
			if f.SSRC != prev.SSRC || f.Timestamp != prev.Timestamp || prev.Marker {
				d.group(group, &f)
				group = group[:0]
			}
		}
		group = append(group, f)
	}
	if len(group) > 0 {
		d.group(group, nil)
	}
	return d.out
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
				d.sps, hasSPS = n, true
			case nalPPS:
				d.pps, hasPPS = n, true
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
	d.out = append(d.out, h264AU{pos: first.Pos, key: key, nalus: nalus})
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
