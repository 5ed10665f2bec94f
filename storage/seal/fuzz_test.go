package seal

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Both fuzz targets are seeded from every file in testdata/ (valid and
// tampered vectors). Run briefly with, e.g.:
//
//	go test ./storage/seal/ -run '^$' -fuzz FuzzReader -fuzztime 10s -fuzzminimizetime 50x
//
// (-fuzzminimizetime keeps the engine from spending a minute minimising
// each new ~2 KB input, during which it runs nothing else.)

func addVectorSeeds(f *testing.F) {
	names, err := filepath.Glob("testdata/*.seal")
	if err != nil {
		f.Fatal(err)
	}
	more, _ := filepath.Glob("testdata/tampered/*.seal")
	for _, n := range append(names, more...) {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParseHeader: the header parser never panics, never over-reads, and
// what it accepts re-encodes to the same authenticated bytes (the encoding
// is canonical, so no two byte strings carry the same context).
func FuzzParseHeader(f *testing.F) {
	addVectorSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bytes.NewReader(b)
		raw, err := readHeader(br)
		if err != nil {
			return
		}
		if consumed := len(b) - br.Len(); consumed != len(raw.bytes) {
			t.Fatalf("consumed %d bytes for a %d-byte header", consumed, len(raw.bytes))
		}
		re, err := encodeHeader(&raw.h)
		if err != nil {
			t.Fatalf("parsed header does not re-encode: %v", err)
		}
		// The envelope area's size is the writer's choice; everything
		// else up to the commitment must come out the same.
		ctxEnd := raw.authLen - commitmentLen
		if !bytes.Equal(re.bytes[:offEnvCap], raw.bytes[:offEnvCap]) ||
			!bytes.Equal(re.bytes[fixedLen:re.authLen-commitmentLen], raw.bytes[fixedLen:ctxEnd]) {
			t.Fatal("parsed header re-encodes differently")
		}
		if _, err := ParseHeader(bytes.NewReader(b)); err != nil {
			t.Fatalf("ParseHeader disagrees with readHeader: %v", err)
		}
	})
}

// FuzzReader: reading arbitrary bytes with the vectors' DEK never panics,
// and anything that verifies carries exactly the authenticated content of a
// seed: the same authenticated header and the same records. Only the
// envelope (deliberately unauthenticated) may differ. This is the
// malleability check.
func FuzzReader(f *testing.F) {
	addVectorSeeds(f)
	type content struct{ hdr, recs [32]byte }
	valid := map[content]bool{}
	names, _ := filepath.Glob("testdata/*.seal")
	for _, n := range names {
		b, _ := os.ReadFile(n)
		if c, ok := verifiedContent(b); ok {
			valid[c] = true
		}
	}
	if len(valid) == 0 {
		f.Fatal("no valid seeds")
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, ok := verifiedContent(b)
		if ok && !valid[c] {
			t.Fatal("an object that is not a seed verified with new content")
		}
	})
}

// verifiedContent reads b in salvage mode and hashes what verified.
func verifiedContent(b []byte) (struct{ hdr, recs [32]byte }, bool) {
	var c struct{ hdr, recs [32]byte }
	r, err := NewReader(bytes.NewReader(b), int64(len(b)), testDEK, WithSalvage())
	if err != nil {
		return c, false
	}
	h := sha256.New()
	st, err := r.Records(func(rec Record) error {
		h.Write([]byte{byte(rec.Type), rec.Track})
		h.Write([]byte{byte(rec.Arrival), byte(rec.Arrival >> 8), byte(rec.Arrival >> 16), byte(rec.Arrival >> 24)})
		h.Write(rec.Data)
		return nil
	})
	if err != nil && !errors.Is(err, ErrTruncated) {
		return c, false
	}
	// Salvage of a truncated object verifies a prefix; count status in.
	h.Write([]byte(st.String()))
	c.hdr = sha256.Sum256(r.raw.bytes[:r.raw.authLen])
	copy(c.recs[:], h.Sum(nil))
	// Also exercise random access and seeking on whatever parsed.
	if n, err := r.NumChunks(); err == nil {
		for i := range n {
			r.Chunk(i)
		}
		r.SeekTime(50_000_000)
	}
	return c, st == StatusComplete || st == StatusRecovered
}
