package export

import (
	"io"
	"testing"
)

// benchH264 is 10 s of 30 fps H.264 as RTP: a 20 kB IDR every second,
// 3 kB P frames, FU-A at 1200 bytes.
func benchH264(b *testing.B) (*Timeline, int64) {
	var ps []pkt
	var size int64
	for k := range 300 {
		n := pSlice(3000, byte(k))
		if k%30 == 0 {
			ps = append(ps, pkt{frame: k, payload: stapA(testSPS, testPPS)})
			n = idrSlice(20000, byte(k))
		}
		for _, f := range fuA(n, 1200) {
			ps = append(ps, pkt{frame: k, payload: f})
		}
		ps[len(ps)-1].marker = true
		size += int64(len(n))
	}
	return build(b, []Track{h264Track}, h264Records(b, 0, ps)), size
}

func BenchmarkAssembleH264(b *testing.B) {
	tl, size := benchH264(b)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		var st H264Stats
		if aus := assembleH264(tl.Tracks[0].Frames, &st); len(aus) != 300 {
			b.Fatalf("%d frames", len(aus))
		}
	}
}

func BenchmarkWriteMKVH264(b *testing.B) {
	tl, size := benchH264(b)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if st, err := WriteMKV(io.Discard, tl, "video"); err != nil || st.Tracks[0].Frames != 300 {
			b.Fatalf("%+v %v", st, err)
		}
	}
}

func BenchmarkWriteH264(b *testing.B) {
	tl, size := benchH264(b)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if st, err := WriteH264(io.Discard, tl, "video"); err != nil || st.Frames != 300 {
			b.Fatalf("%+v %v", st, err)
		}
	}
}
