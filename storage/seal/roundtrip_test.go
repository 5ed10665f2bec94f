package seal

import (
	"bytes"
	"fmt"
	"testing"
)

// TestRoundTripSizes sweeps the record bytes around chunk boundaries: the
// payloads are sized so that the encoded records total 0, 1 record, C-1, C,
// C+1 and many chunks' worth, with and without compression.
func TestRoundTripSizes(t *testing.T) {
	const C = 1024
	// One record of d data bytes encodes to 12+d bytes.
	single := func(total int) []Record {
		if total == 0 {
			return nil
		}
		return []Record{{Type: RecordPacket, Arrival: 5, Data: bytes.Repeat([]byte{7}, total-recordHeaderLen)}}
	}
	cases := []struct {
		name string
		recs []Record
	}{
		{"empty", nil},
		{"one-min-record", single(recordHeaderLen)},
		{"C-1", single(C - 1)},
		{"C", single(C)},
		{"two-C-1+2", append(single(C-1), single(recordHeaderLen+1)...)},
		{"C+1-split", append(single(C-recordHeaderLen), single(recordHeaderLen+1)...)},
		{"many-172", testRecords(500, 172)},
		{"many-1", testRecords(300, 1)},
		{"many-C-12", testRecords(20, C-recordHeaderLen)},
	}
	for _, tc := range cases {
		for _, comp := range []bool{false, true} {
			for _, flush := range []int{0, 1, 7} {
				t.Run(fmt.Sprintf("%s/z=%v/flush=%d", tc.name, comp, flush), func(t *testing.T) {
					obj := writeObject(t, testHeader(), tc.recs, writeOpts{maxChunk: C, compression: comp, flushEvery: flush})
					got, st, err := readAll(obj, testDEK)
					if err != nil {
						t.Fatal(err)
					}
					if st != StatusComplete {
						t.Fatalf("status %v", st)
					}
					sameRecords(t, got, tc.recs)

					r, err := NewReader(bytes.NewReader(obj), int64(len(obj)), testDEK)
					if err != nil {
						t.Fatal(err)
					}
					sum, err := r.Verify()
					if err != nil || sum.Status != StatusComplete || sum.Records != int64(len(tc.recs)) {
						t.Fatalf("Verify = %+v, %v", sum, err)
					}
					n, err := r.NumChunks()
					if err != nil || int64(n) != sum.Chunks {
						t.Fatalf("NumChunks = %d, %v; Verify counted %d", n, err, sum.Chunks)
					}
					// Random access backwards gives the same records.
					var back []Record
					for i := n - 1; i >= 0; i-- {
						recs, err := r.Chunk(i)
						if err != nil {
							t.Fatalf("Chunk(%d): %v", i, err)
						}
						var cp []Record
						for _, rec := range recs {
							rec.Data = bytes.Clone(rec.Data)
							cp = append(cp, rec)
						}
						back = append(cp, back...)
					}
					sameRecords(t, back, tc.recs)
				})
			}
		}
	}
}

func TestChunkBoundaryExact(t *testing.T) {
	const C = 256
	// Records that exactly fill chunks are sealed eagerly; Close then adds
	// an empty final chunk.
	recs := []Record{
		{Type: RecordPacket, Data: make([]byte, C-recordHeaderLen)},
		{Type: RecordPacket, Data: make([]byte, C-recordHeaderLen)},
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testDEK, testHeader(), WithMaxChunkSize(C))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.Stats().Chunks; got != 2 {
		t.Fatalf("chunks after two full records = %d, want 2", got)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if got := w.Stats().Chunks; got != 3 {
		t.Fatalf("chunks = %d, want 3", got)
	}
	if err := w.WriteRecord(recs[0]); err != ErrClosed {
		t.Fatalf("write after close: %v", err)
	}
}
