package seal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// An *os.File is what the spool hands to Recover.
var _ RecoverFile = (*os.File)(nil)

func writeTemp(t *testing.T, b []byte) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "spool.seal"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	return f
}

func fileBytes(t *testing.T, f *os.File) []byte {
	t.Helper()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// crashed is an object whose writer flushed every 9 records and then died:
// no final chunk.
func crashed(t *testing.T) *tamperObject {
	recs := testRecords(40, 60)
	obj := writeObject(t, testHeader(), recs, writeOpts{maxChunk: 256, flushEvery: 9, noClose: true})
	r, err := NewReader(bytes.NewReader(obj), int64(len(obj)), testDEK, WithSalvage())
	if err != nil {
		t.Fatal(err)
	}
	to := &tamperObject{obj: obj, recs: recs, hdrLen: r.HeaderLen(), chunks: nil, chunkRecs: []int{0}}
	n, err := r.NumChunks()
	if err != nil {
		t.Fatal(err)
	}
	to.chunks = r.locs
	for i := range n {
		got, err := r.Chunk(i)
		if err != nil {
			t.Fatal(err)
		}
		to.chunkRecs = append(to.chunkRecs, to.chunkRecs[i]+len(got))
	}
	return to
}

func TestRecover(t *testing.T) {
	to := crashed(t)
	last := to.chunks[len(to.chunks)-1]
	tails := map[string][]byte{
		"clean boundary": to.obj,
		"torn prefix":    append(bytes.Clone(to.obj), to.obj[to.hdrLen:to.hdrLen+10]...),
		"torn body":      to.obj[:last.end()-7],
		// ext4 with delayed allocation can leave zeros after a crash.
		"zero tail":    append(bytes.Clone(to.obj), make([]byte, 300)...),
		"garbage tail": append(bytes.Clone(to.obj), bytes.Repeat([]byte{0xa5}, 100)...),
	}
	for name, obj := range tails {
		t.Run(name, func(t *testing.T) {
			whole := 0
			for whole < len(to.chunks) && to.chunks[whole].end() <= int64(len(obj)) {
				whole++
			}
			f := writeTemp(t, obj)
			sum, err := Recover(f, testDEK)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Status != StatusRecovered || sum.Chunks != int64(whole+1) || sum.Records != int64(to.chunkRecs[whole]) {
				t.Fatalf("Recover = %+v; want RECOVERED, %d chunks, %d records", sum, whole+1, to.chunkRecs[whole])
			}
			if want := int64(len(obj)) - to.chunks[whole-1].end(); sum.TornBytes != want {
				t.Fatalf("TornBytes = %d, want %d", sum.TornBytes, want)
			}
			fixed := fileBytes(t, f)
			got, st, err := readAll(fixed, testDEK)
			if err != nil || st != StatusRecovered {
				t.Fatalf("read recovered object: %v, %v", st, err)
			}
			sameRecords(t, got, to.recs[:to.chunkRecs[whole]])

			// Recovering again changes nothing.
			sum2, err := Recover(f, testDEK)
			if err != nil || sum2.Status != StatusRecovered || sum2.Chunks != sum.Chunks {
				t.Fatalf("second Recover = %+v, %v", sum2, err)
			}
			if !bytes.Equal(fileBytes(t, f), fixed) {
				t.Fatal("second Recover changed the file")
			}
		})
	}
}

// TestRecoverDeterministic: a crash during recovery (a torn recovered-final
// chunk) followed by a second recovery writes the same bytes, so the
// recovered-final nonce only ever protects one plaintext.
func TestRecoverDeterministic(t *testing.T) {
	to := crashed(t)
	f := writeTemp(t, to.obj)
	if _, err := Recover(f, testDEK); err != nil {
		t.Fatal(err)
	}
	once := fileBytes(t, f)
	f2 := writeTemp(t, once[:len(once)-5])
	if _, err := Recover(f2, testDEK); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fileBytes(t, f2), once) {
		t.Fatal("recovering a torn recovery wrote different bytes")
	}
}

func TestRecoverLeavesCompleteAndRefusesWrongKey(t *testing.T) {
	recs := testRecords(30, 60)
	obj := writeObject(t, testHeader(), recs, writeOpts{maxChunk: 256})
	f := writeTemp(t, obj)
	sum, err := Recover(f, testDEK)
	if err != nil || sum.Status != StatusComplete || sum.Records != int64(len(recs)) {
		t.Fatalf("Recover(complete) = %+v, %v", sum, err)
	}
	if !bytes.Equal(fileBytes(t, f), obj) {
		t.Fatal("Recover modified a complete object")
	}

	to := crashed(t)
	f = writeTemp(t, to.obj)
	if _, err := Recover(f, bytes.Repeat([]byte{9}, 32)); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Recover with wrong key: %v", err)
	}
	if !bytes.Equal(fileBytes(t, f), to.obj) {
		t.Fatal("Recover with a wrong key modified the file")
	}
}

func TestSalvageWithoutFinal(t *testing.T) {
	to := crashed(t)
	// Without salvage a crashed object is an error, and never COMPLETE.
	if _, st, err := readAll(to.obj, testDEK); !errors.Is(err, ErrTruncated) || st != StatusTruncated {
		t.Fatalf("strict read: %v, %v", st, err)
	}
	got, st, err := readAll(to.obj, testDEK, WithSalvage())
	if err != nil || st != StatusTruncated {
		t.Fatalf("salvage read: %v, %v", st, err)
	}
	sameRecords(t, got, to.recs)

	// Salvage stops at damage too, and says why.
	obj := bytes.Clone(to.obj)
	obj[to.chunks[2].off+40] ^= 1
	got, st, err = readAll(obj, testDEK, WithSalvage())
	if !errors.Is(err, ErrChunkAuth) || st != StatusTruncated {
		t.Fatalf("salvage of damaged object: %v, %v", st, err)
	}
	sameRecords(t, got, to.recs[:to.chunkRecs[2]])
}

func TestSeekTime(t *testing.T) {
	// Arrivals with jitter: a record can arrive slightly earlier than the
	// one before it (two tracks stamped on different goroutines).
	recs := testRecords(200, 100)
	for i := range recs {
		recs[i].Arrival = int64(i)*10 - int64(i%3)*7
	}
	obj := writeObject(t, testHeader(), recs, writeOpts{maxChunk: 512, flushEvery: 5})
	r, err := NewReader(bytes.NewReader(obj), int64(len(obj)), testDEK)
	if err != nil {
		t.Fatal(err)
	}
	n, err := r.NumChunks()
	if err != nil {
		t.Fatal(err)
	}
	// Brute force: each chunk's records.
	var chunks [][]Record
	for i := range n {
		rs, err := r.Chunk(i)
		if err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, append([]Record(nil), rs...))
	}
	for tt := int64(-20); tt < 2020; tt++ {
		i, err := r.SeekTime(tt)
		if err != nil {
			t.Fatalf("SeekTime(%d): %v", tt, err)
		}
		for k := 0; k < i; k++ {
			for _, rec := range chunks[k] {
				if rec.Arrival >= tt {
					t.Fatalf("SeekTime(%d) = %d, but chunk %d holds arrival %d", tt, i, k, rec.Arrival)
				}
			}
		}
		if i < n {
			// The chunk found must be where t is reached (or the first
			// after it, for a t that falls between chunks).
			if m := r.locs[i].p.arrivalMax; m < tt {
				t.Fatalf("SeekTime(%d) = %d with arrival max %d", tt, i, m)
			}
		} else if tt <= recs[len(recs)-1].Arrival {
			t.Fatalf("SeekTime(%d) = end", tt)
		}
	}

	// An altered arrival max in a prefix cannot move a seek.
	bad := bytes.Clone(obj)
	l := r.locs[n/2]
	bad[l.off+24] ^= 0x40
	rb, err := NewReader(bytes.NewReader(bad), int64(len(bad)), testDEK)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := r.SeekTime(recs[len(recs)/2].Arrival)
	if got, err := rb.SeekTime(recs[len(recs)/2].Arrival); err == nil && got != want {
		t.Fatalf("tampered index moved the seek from %d to %d", want, got)
	}
}
