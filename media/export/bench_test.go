package export

import (
	"io"
	"testing"
	"time"
)

// benchCall is a two-track PCMU call of the given length with a little
// reordering, the shape of a real contact-centre recording.
func benchCall(b *testing.B, d time.Duration) (Header, []Record) {
	n := int(d / (20 * time.Millisecond))
	caller := stream{ssrc: 1, seq: 1, ts: 1}
	agent := stream{ssrc: 2, seq: 1, ts: 1, start: int64(3 * time.Millisecond), track: 1}
	var recs []Record
	for i := range n {
		j := i
		if i%50 == 1 { // every second one pair arrives swapped
			j = i + 1
		} else if i%50 == 2 {
			j = i - 1
		}
		recs = append(recs, caller.packet(b, j), agent.packet(b, i))
	}
	return Header{Tracks: []Track{pcmuTrack, {Label: "agent", Kind: "audio", Codec: "PCMU", ClockRate: 8000}}}, recs
}

func BenchmarkBuild10Min(b *testing.B) {
	h, recs := benchCall(b, 10*time.Minute)
	b.ReportAllocs()
	b.SetBytes(int64(len(recs)) * 172)
	for b.Loop() {
		if _, err := Build(h, &SliceSource{Records: recs}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteWAVStereo10Min(b *testing.B) {
	h, recs := benchCall(b, 10*time.Minute)
	tl, err := Build(h, &SliceSource{Records: recs}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(10 * 60 * 8000 * 4)
	for b.Loop() {
		if err := WriteWAVStereo(io.Discard, tl, "caller", "agent"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWritePCAP10Min(b *testing.B) {
	h, recs := benchCall(b, 10*time.Minute)
	b.ReportAllocs()
	b.SetBytes(int64(len(recs)) * 172)
	for b.Loop() {
		if _, err := WritePCAP(io.Discard, h, &SliceSource{Records: recs}, PCAPOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
