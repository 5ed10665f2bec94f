package seal

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

func TestWriterMisuse(t *testing.T) {
	h := testHeader()
	if _, err := NewWriter(io.Discard, testDEK[:31], h); !errors.Is(err, ErrKeySize) {
		t.Errorf("31-byte DEK: %v", err)
	}
	for _, n := range []int{MinChunkSize - 1, MaxChunkSizeLimit + 1, -5} {
		if _, err := NewWriter(io.Discard, testDEK, h, WithMaxChunkSize(n)); !errors.Is(err, ErrChunkTooLarge) {
			t.Errorf("chunk size %d: %v", n, err)
		}
	}
	bad := testHeader()
	bad.Version = 3
	if _, err := NewWriter(io.Discard, testDEK, bad); !errors.Is(err, ErrHeaderInvalid) {
		t.Errorf("version 3: %v", err)
	}
	for name, c := range map[string]map[string]string{
		"no pairs":       {},
		"empty name":     {"": "x"},
		"long name":      {string(make([]byte, MaxKMSContextKey+1)): "x"},
		"long value":     {"org": string(make([]byte, MaxKMSContextValue+1))},
		"too many pairs": manyPairs(MaxKMSContextPairs + 1),
	} {
		bad = testHeader()
		bad.Version, bad.KMSContext = Version2, c
		if _, err := NewWriter(io.Discard, testDEK, bad); !errors.Is(err, ErrHeaderInvalid) {
			t.Errorf("version 2, kms context %s: %v", name, err)
		}
	}
	bad = testHeader()
	bad.Version, bad.KMSContext = Version1, testKMSContext()
	if _, err := NewWriter(io.Discard, testDEK, bad); !errors.Is(err, ErrHeaderInvalid) {
		t.Errorf("version 1 with a kms context: %v", err)
	}
	bad = testHeader()
	bad.Context.Tracks = make([]Track, MaxTracks+1)
	if _, err := NewWriter(io.Discard, testDEK, bad); !errors.Is(err, ErrHeaderInvalid) {
		t.Errorf("too many tracks: %v", err)
	}
	bad = testHeader()
	bad.Context.OrgID = string(make([]byte, 70000))
	if _, err := NewWriter(io.Discard, testDEK, bad); !errors.Is(err, ErrHeaderInvalid) {
		t.Errorf("long org id: %v", err)
	}

	w, err := NewWriter(io.Discard, testDEK, h, WithMaxChunkSize(256))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		r    Record
		want error
	}{
		{Record{Type: RecordPacket, Data: make([]byte, 256-recordHeaderLen+1)}, ErrRecordTooLarge},
		{Record{Type: RecordPacket, Track: 2}, ErrBadRecord},
		{Record{Type: 0}, ErrBadRecord},
		{Record{Type: 9}, ErrBadRecord},
	} {
		if err := w.WriteRecord(tc.r); !errors.Is(err, tc.want) {
			t.Errorf("WriteRecord(%+v): %v, want %v", tc.r.Type, err, tc.want)
		}
	}
	// Misuse does not poison the writer; events may use any track.
	if err := w.WriteRecord(Record{Type: RecordEvent, Track: 0xff, Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRecord(Record{Type: RecordPacket, Data: make([]byte, 256-recordHeaderLen)}); err != nil {
		t.Fatal(err)
	}
}

func TestWriterRecordingID(t *testing.T) {
	h := testHeader()
	h.RecordingID = [32]byte{}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testDEK, h)
	if err != nil {
		t.Fatal(err)
	}
	if w.Header().RecordingID == ([32]byte{}) {
		t.Fatal("zero recording id was not replaced")
	}
	if w.HeaderLen() != buf.Len() {
		t.Fatalf("HeaderLen %d, wrote %d", w.HeaderLen(), buf.Len())
	}
	got, err := ParseHeader(bytes.NewReader(buf.Bytes()))
	if err != nil || got.RecordingID != w.Header().RecordingID || got.MaxChunkSize != DefaultMaxChunkSize {
		t.Fatalf("ParseHeader = %+v, %v", got, err)
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after == 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

// TestWriterStickyError: after a failed write the writer refuses everything,
// so it can never seal the same chunk index twice.
func TestWriterStickyError(t *testing.T) {
	fw := &failWriter{after: 2} // header, chunk 0
	w, err := NewWriter(fw, testDEK, testHeader(), WithMaxChunkSize(128))
	if err != nil {
		t.Fatal(err)
	}
	rec := Record{Type: RecordPacket, Data: make([]byte, 100)}
	if err := w.WriteRecord(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRecord(rec); err != nil {
		t.Fatal(err)
	}
	first := w.Flush()
	if first == nil {
		t.Fatal("flush to a failing writer succeeded")
	}
	for _, err := range []error{w.WriteRecord(rec), w.Flush(), w.Close(), w.Close()} {
		if err != first {
			t.Fatalf("after failure: %v, want the sticky %v", err, first)
		}
	}
}

// TestWriterZeroAlloc guards the steady-state promise: writing full-chunk
// records and small records allocates nothing, with or without compression
// once warm.
func TestWriterZeroAlloc(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers; make test runs this test again without -race")
	}
	for _, comp := range []bool{false, true} {
		w, err := NewWriter(io.Discard, testDEK, testHeader(), WithMaxChunkSize(16<<10), WithCompression(comp))
		if err != nil {
			t.Fatal(err)
		}
		full := testRecords(1, 16<<10-recordHeaderLen)[0]
		small := testRecords(1, 172)[0]
		for range 10 { // warm up: buffers grow, the encoder pools fill
			w.WriteRecord(full)
			w.WriteRecord(small)
			w.Flush()
		}
		if n := testing.AllocsPerRun(100, func() { w.WriteRecord(full) }); n != 0 {
			t.Errorf("compression %v: full-chunk WriteRecord allocates %v per op", comp, n)
		}
		if n := testing.AllocsPerRun(1000, func() { w.WriteRecord(small) }); n != 0 {
			t.Errorf("compression %v: 172-byte WriteRecord allocates %v per op", comp, n)
		}
	}
}

func TestReaderZeroAlloc(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	obj := writeObject(t, testHeader(), testRecords(400, 172), writeOpts{maxChunk: 16 << 10})
	r, err := NewReader(bytes.NewReader(obj), int64(len(obj)), testDEK)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := r.NumChunks()
	r.Chunk(0)
	i := 0
	if a := testing.AllocsPerRun(100, func() { r.Chunk(i % n); i++ }); a != 0 {
		t.Errorf("Chunk allocates %v per op", a)
	}
}

// A gateway keeps a writer per live call: between flushes a writer holds
// no more than its pending records and one partly filled block, and a
// flush hands every block back. (A buffer of the writer's own stayed at
// the size of its largest chunk for the call's life.)
func TestWriterHoldsOnlyWhatIsPending(t *testing.T) {
	w, err := NewWriter(io.Discard, testDEK, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, 172)
	n := 0
	for _, records := range []int{50, 52, 1, 53, 0, 50} {
		for range records {
			if err := w.WriteRecord(Record{Type: RecordPacket, Arrival: int64(n) * 20e6, Data: pkt}); err != nil {
				t.Fatal(err)
			}
			n++
			if held := w.held(); held > w.pending+blockSize {
				t.Fatalf("writer holds %d bytes for %d pending", held, w.pending)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if w.held() != 0 || w.pending != 0 {
			t.Fatalf("after a flush the writer still holds %d bytes (%d pending)", w.held(), w.pending)
		}
	}
}

// held is the memory the writer holds for its pending records.
func (w *Writer) held() int {
	n := len(w.full) * blockSize
	if w.cur != nil {
		n += blockSize
	}
	return n
}

// Records of every size, split across blocks at every offset, read back
// as written, with and without compression (TestVectors pins the bytes).
func TestRecordsAcrossBlocks(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var recs []Record
	for i := range 400 {
		n := rnd.IntN(3 * blockSize)
		if i%3 == 0 {
			n = rnd.IntN(64)
		}
		d := make([]byte, n)
		for j := range d {
			d[j] = byte(rnd.Uint32())
		}
		recs = append(recs, Record{Type: RecordPacket, Track: uint8(i % 2), Arrival: int64(i), Data: d})
	}
	for _, comp := range []bool{false, true} {
		for _, flush := range []int{0, 1, 3, 17} {
			obj := writeObject(t, testHeader(), recs, writeOpts{maxChunk: 16 << 10, compression: comp, flushEvery: flush})
			got, st, err := readAll(obj, testDEK)
			if err != nil || st != StatusComplete {
				t.Fatalf("compression %v, flush every %d: %v %v", comp, flush, st, err)
			}
			sameRecords(t, got, recs)
		}
	}
}
