package export

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// Parameter sets from libx264 (320x240 constrained baseline; 180x100 high
// profile, which needs cropping).
var (
	testSPS     = []byte{0x67, 0x42, 0xc0, 0x0d, 0xd9, 0x01, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x42, 0xa4, 0x80}
	testPPS     = []byte{0x68, 0xcb, 0x83, 0xcb, 0x20}
	testSPSHigh = []byte{0x67, 0x64, 0x00, 0x0b, 0xac, 0xd9, 0x43, 0x0f, 0xe7, 0x9f, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x42, 0x99, 0x60}
)

var h264Track = Track{Label: "video", Kind: "video", Codec: "H264", ClockRate: 90000, PayloadType: 102}

// Synthetic slices: first_mb_in_slice 0 (first bit of byte 1 set) unless
// named "second", which continues a picture.
func idrSlice(n int, fill byte) []byte    { return sliceNAL(0x65, 0x88, n, fill) }
func pSlice(n int, fill byte) []byte      { return sliceNAL(0x41, 0x9a, n, fill) }
func secondSlice(n int, fill byte) []byte { return sliceNAL(0x41, 0x40, n, fill) }

func sliceNAL(hdr, b1 byte, n int, fill byte) []byte {
	b := bytes.Repeat([]byte{fill}, n)
	b[0], b[1] = hdr, b1
	return b
}

func stapA(nalus ...[]byte) []byte {
	p := []byte{0x78} // NRI 3, type 24
	for _, n := range nalus {
		p = binary.BigEndian.AppendUint16(p, uint16(len(n)))
		p = append(p, n...)
	}
	return p
}

// fuA splits nal into fragments of at most size bytes (RFC 6184 §5.8).
func fuA(nal []byte, size int) [][]byte {
	var out [][]byte
	body := nal[1:]
	for off := 0; off < len(body); off += size {
		h := nal[0] & 0x1F
		if off == 0 {
			h |= 0x80
		}
		if off+size >= len(body) {
			h |= 0x40
		}
		out = append(out, append([]byte{nal[0]&0xE0 | nalFUA, h}, body[off:min(off+size, len(body))]...))
	}
	return out
}

// pkt is one RTP packet of a test: frame index (ts = 3000*frame), payload,
// marker; lost packets are still numbered but not recorded.
type pkt struct {
	frame   int
	payload []byte
	marker  bool
	lost    bool
}

// frame packetizes one access unit: each NAL unit as a single NAL unit
// packet, or FU-A fragments when larger than 100 bytes; marker on the last.
func frame(k int, nalus ...[]byte) []pkt {
	var out []pkt
	for _, n := range nalus {
		if len(n) <= 100 {
			out = append(out, pkt{frame: k, payload: n})
			continue
		}
		for _, f := range fuA(n, 100) {
			out = append(out, pkt{frame: k, payload: f})
		}
	}
	out[len(out)-1].marker = true
	return out
}

func h264Records(t testing.TB, seq0 uint16, pkts []pkt) []Record {
	var recs []Record
	for i, p := range pkts {
		if p.lost {
			continue
		}
		b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 102, SequenceNumber: seq0 + uint16(i),
			Timestamp: 90000 + uint32(p.frame*3000), SSRC: 0x4242, Marker: p.marker}, Payload: p.payload}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, Record{Type: RecordPacket, Arrival: int64(p.frame) * int64(time.Second) / 30, Data: b})
	}
	return recs
}

func pkts(ps ...[]pkt) []pkt { return slices.Concat(ps...) }

func lose(ps []pkt, i int) []pkt {
	ps = slices.Clone(ps)
	ps[i].lost = true
	return ps
}

func TestAssembleH264(t *testing.T) {
	idr := idrSlice(350, 0x11) // 4 fragments
	p1, p2, p3 := pSlice(60, 0x21), pSlice(250, 0x22), pSlice(40, 0x23)
	idr2 := idrSlice(90, 0x31)
	spsPPS := []pkt{{frame: 0, payload: stapA(testSPS, testPPS)}}
	start := pkts(spsPPS, frame(0, idr))
	type au struct {
		frame int
		nalus [][]byte
	}
	cases := []struct {
		name    string
		seq0    uint16
		pkts    []pkt
		want    []au
		dropped int
	}{
		{"STAP-A parameter sets, FU-A IDR, single NAL P", 100, pkts(start, frame(1, p1)),
			[]au{{0, [][]byte{testSPS, testPPS, idr}}, {1, [][]byte{p1}}}, 0},
		{"STAP-A with slices", 100, pkts([]pkt{{frame: 0, payload: stapA(testSPS, testPPS, idr2), marker: true}}, frame(1, p1, secondSlice(30, 9))),
			[]au{{0, [][]byte{testSPS, testPPS, idr2}}, {1, [][]byte{p1, secondSlice(30, 9)}}}, 0},
		{"FU-A start middle end", 7, pkts(start, frame(1, p2), frame(2, p3)),
			[]au{{0, [][]byte{testSPS, testPPS, idr}}, {1, [][]byte{p2}}, {2, [][]byte{p3}}}, 0},
		{"sequence wraps inside a fragmented IDR", 65533, pkts(start, frame(1, p2), frame(2, p1)),
			[]au{{0, [][]byte{testSPS, testPPS, idr}}, {1, [][]byte{p2}}, {2, [][]byte{p1}}}, 0},
		{"lost middle fragment drops frames until the next IDR (parameter sets repeated)", 100,
			lose(pkts(start, frame(1, p2), frame(2, p1), frame(3, p3), frame(4, idr2), frame(5, p1)), 6),
			[]au{{0, [][]byte{testSPS, testPPS, idr}}, {4, [][]byte{testSPS, testPPS, idr2}}, {5, [][]byte{p1}}}, 3},
		{"lost start fragment", 100, lose(pkts(start, frame(1, p2), frame(2, p1)), 5),
			[]au{{0, [][]byte{testSPS, testPPS, idr}}}, 2},
		{"lost end fragment (with the marker)", 100, lose(pkts(start, frame(1, p2), frame(2, p1)), 7),
			[]au{{0, [][]byte{testSPS, testPPS, idr}}}, 2},
		{"lost whole frame: the next one references it", 100, lose(pkts(start, frame(1, p1), frame(2, p3), frame(3, idr2)), 5),
			[]au{{0, [][]byte{testSPS, testPPS, idr}}, {3, [][]byte{testSPS, testPPS, idr2}}}, 1},
		{"lost first slice of a picture", 100, lose(pkts(start, frame(1, p1, secondSlice(30, 1)), frame(2, idr2)), 5),
			[]au{{0, [][]byte{testSPS, testPPS, idr}}, {2, [][]byte{testSPS, testPPS, idr2}}}, 1},
		{"inter frames before the first IDR", 100, pkts(frame(0, p1), frame(1, p3), []pkt{{frame: 2, payload: stapA(testSPS, testPPS), marker: true}}, frame(2, idr2)),
			// the parameter sets in a group of their own, kept for the IDR
			[]au{{2, [][]byte{testSPS, testPPS, idr2}}}, 2},
		{"IDR with no parameter set anywhere", 100, pkts(frame(0, idr2), frame(1, p1)), nil, 2},
		{"no marker, next packet in sequence", 100, pkts(start[:len(start)-1], []pkt{{frame: 0, payload: start[len(start)-1].payload}}, frame(1, p1)),
			[]au{{0, [][]byte{testSPS, testPPS, idr}}, {1, [][]byte{p1}}}, 0},
		{"no marker on the last frame", 100, pkts(start, []pkt{{frame: 1, payload: p1}}),
			[]au{{0, [][]byte{testSPS, testPPS, idr}}}, 1},
		{"padding-only packets are not losses", 100, pkts(start, []pkt{{frame: 0}, {frame: 0}}, frame(1, p1)),
			[]au{{0, [][]byte{testSPS, testPPS, idr}}, {1, [][]byte{p1}}}, 0},
		{"FU-A start and end bits together", 100, pkts(start, []pkt{{frame: 1, payload: []byte{0x7c, 0xc1, 1, 2}, marker: true}}, frame(2, p1)),
			[]au{{0, [][]byte{testSPS, testPPS, idr}}}, 2},
		{"FU-A continuation without a start", 100, pkts(start, []pkt{{frame: 1, payload: fuA(p2, 100)[1]}, {frame: 1, payload: fuA(p2, 100)[2], marker: true}}),
			[]au{{0, [][]byte{testSPS, testPPS, idr}}}, 1},
		{"FU-A fragments of two types", 100, pkts(start, []pkt{{frame: 1, payload: fuA(p2, 100)[0]}, {frame: 1, payload: fuA(idrSlice(150, 1), 100)[1], marker: true}}),
			[]au{{0, [][]byte{testSPS, testPPS, idr}}}, 1},
		{"STAP-A with a truncated unit", 100, pkts(start, []pkt{{frame: 1, payload: stapA(p1)[:20], marker: true}}),
			[]au{{0, [][]byte{testSPS, testPPS, idr}}}, 1},
		{"STAP-A with a zero-length unit", 100, pkts(start, []pkt{{frame: 1, payload: []byte{0x78, 0, 0}, marker: true}}),
			[]au{{0, [][]byte{testSPS, testPPS, idr}}}, 1},
		{"interleaved-mode and reserved types", 100, pkts(start, []pkt{{frame: 1, payload: []byte{0x79, 0, 1, 0x41}, marker: true}},
			[]pkt{{frame: 2, payload: []byte{0x7e, 1}, marker: true}}, []pkt{{frame: 3, payload: []byte{0x9d, 1}, marker: true}}),
			[]au{{0, [][]byte{testSPS, testPPS, idr}}}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tl := build(t, []Track{h264Track}, h264Records(t, c.seq0, c.pkts))
			var st H264Stats
			got := assembleH264(tl.Tracks[0].Frames, &st)
			if len(got) != len(c.want) || st.Dropped != c.dropped || st.Frames != len(c.want) {
				t.Fatalf("%d access units (stats %+v), want %d with %d dropped", len(got), st, len(c.want), c.dropped)
			}
			keys := 0
			for i, w := range c.want {
				if got[i].pos != int64(w.frame)*3000 {
					t.Errorf("AU %d at %d, want %d", i, got[i].pos, w.frame*3000)
				}
				if !slices.EqualFunc(got[i].nalus, w.nalus, bytes.Equal) {
					t.Errorf("AU %d: %d NAL units %x..., want %d", i, len(got[i].nalus), got[i].nalus[0][:2], len(w.nalus))
				}
				if got[i].key {
					keys++
				}
			}
			if st.Keyframes != keys || (keys > 0 && (st.Width != 320 || st.Height != 240)) {
				t.Errorf("stats %+v, %d IDR frames", st, keys)
			}
		})
	}
}

func TestParseSPS(t *testing.T) {
	cases := []struct {
		name string
		sps  []byte
		w, h int
		err  bool
	}{
		{"baseline 320x240", testSPS, 320, 240, false},
		{"high 180x100 cropped", testSPSHigh, 180, 100, false},
		{"truncated", testSPS[:6], 0, 0, true},
		{"not an SPS", testPPS, 0, 0, true},
		{"Exp-Golomb run past 32 bits", []byte{0x67, 0x42, 0, 0x0d, 0, 0, 0, 0, 0, 0}, 0, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := parseSPS(c.sps)
			if (err != nil) != c.err || (err != nil && !errors.Is(err, errSPS)) {
				t.Fatalf("err %v, want error %v", err, c.err)
			}
			if s.width != c.w || s.height != c.h {
				t.Fatalf("%dx%d, want %dx%d", s.width, s.height, c.w, c.h)
			}
		})
	}
	cfg, err := avcConfig(testSPSHigh, testPPS)
	if err != nil || cfg[0] != 1 || cfg[1] != 0x64 || cfg[4] != 0xFF || cfg[5] != 0xE1 || len(cfg) != 6+2+len(testSPSHigh)+3+len(testPPS)+4 {
		t.Fatalf("avcC % x: %v", cfg, err)
	}
}

func TestWriteH264(t *testing.T) {
	idr, p1 := idrSlice(350, 0x11), pSlice(60, 0x21)
	tl := build(t, []Track{h264Track}, h264Records(t, 1, pkts([]pkt{{frame: 0, payload: stapA(testSPS, testPPS)}}, frame(0, idr), frame(1, p1))))
	var buf bytes.Buffer
	st, err := WriteH264(&buf, tl, "video")
	if err != nil || st.Frames != 2 || st.Keyframes != 1 {
		t.Fatalf("%+v %v", st, err)
	}
	want := slices.Concat(annexBStartCode, testSPS, annexBStartCode, testPPS, annexBStartCode, idr, annexBStartCode, p1)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("Annex B stream differs")
	}
	if _, err := WriteH264(&buf, tl, "nope"); !errors.Is(err, ErrNoTrack) {
		t.Fatalf("unknown track: %v", err)
	}
	tl.Tracks[0].Track.Codec = "VP8"
	if _, err := WriteH264(&buf, tl, "video"); !errors.Is(err, ErrCodec) {
		t.Fatalf("VP8 track: %v", err)
	}
}
