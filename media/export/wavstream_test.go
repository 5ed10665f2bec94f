package export

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
)

var streamTracks = []Track{
	{Label: "caller", Kind: "audio", Codec: "PCMU", ClockRate: 8000, PayloadType: 0},
	{Label: "agent", Kind: "audio", Codec: "PCMA", ClockRate: 8000, PayloadType: 8},
}

func slicePass(recs []Record) ReadPass {
	return func(fn func(Record)) error {
		for _, r := range recs {
			fn(r)
		}
		return nil
	}
}

// builderWAV is the reference: the whole timeline rebuilt in memory.
func builderWAV(h Header, recs []Record, labels []string) ([]byte, error) {
	tl, err := Build(h, &SliceSource{Records: recs}, Options{NoPCM: true})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if len(labels) == 1 {
		err = WriteWAV(&buf, tl, labels[0])
	} else {
		err = WriteWAVStereo(&buf, tl, labels[0], labels[1])
	}
	return buf.Bytes(), err
}

// compareStream checks StreamWAV against the Builder for mono of each
// track and stereo; it returns whether every output streamed.
func compareStream(t testing.TB, tracks []Track, recs []Record, name string) bool {
	t.Helper()
	h := Header{Start: time.Unix(1700000000, 0), Tracks: tracks}
	streamed := true
	for _, labels := range [][]string{{tracks[0].Label}, {tracks[1].Label}, {tracks[0].Label, tracks[1].Label}} {
		want, werr := builderWAV(h, recs, labels)
		var got bytes.Buffer
		_, fallback, gerr := StreamWAV(&got, h, Options{}, slicePass(recs), labels...)
		if (werr == nil) != (gerr == nil) || (werr != nil && !errors.Is(gerr, errors.Unwrap(werr)) && werr.Error() != gerr.Error()) {
			t.Fatalf("%s %v: builder error %v, stream error %v", name, labels, werr, gerr)
		}
		if werr != nil {
			continue
		}
		if !bytes.Equal(got.Bytes(), want) {
			i := 0
			for i < min(got.Len(), len(want)) && got.Bytes()[i] == want[i] {
				i++
			}
			t.Fatalf("%s %v: streamed WAV (%d bytes, fallback %q) differs from the builder's (%d bytes) first at byte %d",
				name, labels, got.Len(), fallback, len(want), i)
		}
		streamed = streamed && fallback == ""
	}
	return streamed
}

// randomCall is a two-track call: each track a 20 ms sender with loss,
// duplicates, local reordering, jitter, SSRC changes, sequence restarts,
// timestamp jumps, DTMF packets and secure pauses, as chosen by rng.
func randomCall(t testing.TB, rng *rand.Rand) []Record {
	var recs []Record
	n := 50 + rng.IntN(400)
	type sender struct {
		ssrc uint32
		seq  uint16
		ts   uint32
	}
	snd := [2]sender{{ssrc: rng.Uint32(), seq: uint16(rng.Uint32()), ts: rng.Uint32()}, {ssrc: rng.Uint32(), seq: uint16(rng.Uint32()), ts: rng.Uint32()}}
	pts := [2]uint8{0, 8}
	reorder := rng.IntN(3) == 0 // most calls arrive in order
	lead := [2]int64{int64(rng.IntN(200)) * int64(time.Millisecond), int64(rng.IntN(200)) * int64(time.Millisecond)}
	for i := range n {
		for tr := range 2 {
			s := &snd[tr]
			s.seq++
			s.ts += samples
			switch rng.IntN(200) {
			case 0:
				s.ssrc = rng.Uint32()
			case 1:
				s.seq += 5000 // a restart of the numbering
			case 2:
				s.ts += uint32(rng.IntN(80000)) // a timestamp jump
			case 3:
				recs = append(recs, Record{Type: RecordPause, Track: uint8(tr), Arrival: int64(i) * ptime})
			case 4:
				recs = append(recs, Record{Type: RecordResume, Track: AllTracks, Arrival: int64(i) * ptime})
			}
			if rng.IntN(30) == 0 { // lost
				continue
			}
			pt := pts[tr]
			if rng.IntN(40) == 0 {
				pt = 101
			}
			jit := int64(rng.IntN(15)) * int64(time.Millisecond)
			p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: s.seq, Timestamp: s.ts, SSRC: s.ssrc},
				Payload: payloadFor(i*2 + tr)[:samples-rng.IntN(2)*80]}
			b, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			r := Record{Type: RecordPacket, Track: uint8(tr), Arrival: lead[tr] + int64(i)*ptime + jit, Data: b}
			recs = append(recs, r)
			if reorder && rng.IntN(10) == 0 && len(recs) > 1 {
				k := len(recs) - 1 - rng.IntN(min(len(recs)-1, 6))
				recs[k], recs[len(recs)-1] = recs[len(recs)-1], recs[k]
			}
			if reorder && rng.IntN(50) == 0 {
				recs = append(recs, r) // a duplicate
			}
		}
	}
	return recs
}

// TestStreamWAVMatchesBuilder: on random calls (in order and reordered,
// with loss, duplicates, pauses, SSRC changes, restarts, DTMF, PCMU and
// PCMA) the streamed WAV, mono and stereo, is byte for byte the Builder's,
// and the in-order ones really stream.
func TestStreamWAVMatchesBuilder(t *testing.T) {
	streamed := 0
	const calls = 300
	for seed := range uint64(calls) {
		rng := rand.New(rand.NewPCG(seed, 18))
		if compareStream(t, streamTracks, randomCall(t, rng), fmt.Sprintf("seed %d", seed)) {
			streamed++
		}
	}
	t.Logf("%d of %d calls streamed", streamed, calls)
	if streamed < calls/3 {
		t.Fatalf("only %d of %d calls streamed", streamed, calls)
	}
}

// TestStreamWAVFallsBack: a packet later than the reorder window makes
// StreamWAV write with the Builder and say why; one within it streams.
func TestStreamWAVFallsBack(t *testing.T) {
	s := stream{ssrc: 1, seq: 100, ts: 0}
	h := Header{Tracks: []Track{pcmuTrack}}
	for _, c := range []struct {
		late   int
		stream bool
	}{{1, true}, {reorderWindow, true}, {reorderWindow + 1, false}} {
		recs := s.packets(t, 0, 200)
		r := recs[10]
		recs = slices.Insert(slices.Delete(recs, 10, 11), 10+c.late, r)
		var buf bytes.Buffer
		_, fallback, err := StreamWAV(&buf, h, Options{}, slicePass(recs), "caller")
		if err != nil || (fallback == "") != c.stream {
			t.Fatalf("a packet %d late: fallback %q, err %v", c.late, fallback, err)
		}
	}
}

// FuzzStreamWAV: whatever the records, the streamed WAV is the Builder's.
func FuzzStreamWAV(f *testing.F) {
	f.Add([]byte{0, 20, 1, 0, 160, 160, 4, 20, 1, 0, 160, 160, 0, 20, 1, 0, 160, 160})
	f.Add([]byte{0, 20, 1, 0, 160, 160, 0, 20, 0xFF, 0xFF, 0x60, 160, 3, 20, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		compareStream(t, []Track{pcmuTrack, {Label: "agent", Kind: "audio", Codec: "PCMA", ClockRate: 8000}}, fuzzRecords(data), "fuzz")
	})
}

// TestStreamWAVRecordsChanged: a later read that does not read what the
// plan pass read (a packet more, a packet less, one moved) fails with
// ErrChanged.
func TestStreamWAVRecordsChanged(t *testing.T) {
	s := stream{ssrc: 1, seq: 100, ts: 0}
	recs := s.packets(t, 0, 50)
	h := Header{Tracks: []Track{pcmuTrack}}
	for name, change := range map[string]func([]Record) []Record{
		"one less": func(r []Record) []Record { return r[:49] },
		"one more": func(r []Record) []Record { return append(r[:50:50], s.packet(t, 50)) },
		"reordered": func(r []Record) []Record {
			r = append([]Record(nil), r...)
			r[10], r[11] = r[11], r[10]
			return r
		},
	} {
		for _, bad := range []int{2, 3} { // the measuring or the writing read
			n := 0
			read := func(fn func(Record)) error {
				n++
				in := recs
				if n == bad {
					in = change(recs)
				}
				return slicePass(in)(fn)
			}
			if _, _, err := StreamWAV(io.Discard, h, Options{}, read, "caller"); !errors.Is(err, ErrChanged) {
				t.Errorf("%s in read %d: %v", name, bad, err)
			}
		}
	}
}
