package seal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// tamperObject is a small complete object with several chunks, and where
// its chunks are.
type tamperObject struct {
	obj     []byte
	recs    []Record
	hdrLen  int
	authLen int // end of the MAC'd part of the header (= start of the MAC)
	chunks  []loc
	// chunkRecs[i] is how many records chunks 0..i-1 hold.
	chunkRecs []int
}

func newTamperObject(t testing.TB, compression bool) *tamperObject {
	t.Helper()
	recs := testRecords(40, 60)
	obj := writeObject(t, testHeader(), recs, writeOpts{maxChunk: 256, compression: compression, flushEvery: 9})
	r, err := NewReader(bytes.NewReader(obj), int64(len(obj)), testDEK)
	if err != nil {
		t.Fatal(err)
	}
	n, err := r.NumChunks()
	if err != nil || n < 5 {
		t.Fatalf("NumChunks = %d, %v", n, err)
	}
	to := &tamperObject{obj: obj, recs: recs, hdrLen: r.HeaderLen(), authLen: r.raw.authLen, chunks: r.locs}
	to.chunkRecs = []int{0}
	for i := range n {
		got, err := r.Chunk(i)
		if err != nil {
			t.Fatal(err)
		}
		to.chunkRecs = append(to.chunkRecs, to.chunkRecs[i]+len(got))
	}
	return to
}

func (to *tamperObject) chunkBytes(i int) []byte {
	l := to.chunks[i]
	return to.obj[l.off:l.end()]
}

// build reassembles the object from the header and the given chunks.
func (to *tamperObject) build(chunks ...[]byte) []byte {
	out := bytes.Clone(to.obj[:to.hdrLen])
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out
}

func (to *tamperObject) allChunks() [][]byte {
	var cs [][]byte
	for i := range to.chunks {
		cs = append(cs, to.chunkBytes(i))
	}
	return cs
}

// expectFailure reads obj with Verify and with Records and checks that both
// fail with want, and that Records released only records of chunks before
// chunk bad (which are authentic), never anything at or after it.
func expectFailure(t *testing.T, to *tamperObject, obj []byte, want error, bad int) {
	t.Helper()
	if err := checkFailure(to, obj, want, bad); err != nil {
		t.Fatal(err)
	}
}

func checkFailure(to *tamperObject, obj []byte, want error, bad int) error {
	r, err := NewReader(bytes.NewReader(obj), int64(len(obj)), testDEK)
	if err == nil {
		_, err = r.Verify()
	}
	if !errors.Is(err, want) {
		return fmt.Errorf("Verify: got %v, want %v", err, want)
	}
	got, st, err := readAll(obj, testDEK)
	if !errors.Is(err, want) {
		return fmt.Errorf("Records: got %v, want %v", err, want)
	}
	if st == StatusComplete || st == StatusRecovered {
		return fmt.Errorf("Records: status %v with error %v", st, err)
	}
	if bad >= 0 {
		if len(got) > to.chunkRecs[bad] {
			return fmt.Errorf("Records released %d records; only chunks before %d (%d records) verify", len(got), bad, to.chunkRecs[bad])
		}
		for i, g := range got {
			w := to.recs[i]
			if g.Type != w.Type || g.Track != w.Track || g.Arrival != w.Arrival || !bytes.Equal(g.Data, w.Data) {
				return fmt.Errorf("Records released record %d = %+v, not the authentic %+v", i, g, w)
			}
		}
	}
	return nil
}

func TestTamperHeaderBits(t *testing.T) {
	to := newTamperObject(t, false)
	ctxEnd := to.authLen - commitmentLen
	step := 1
	if testing.Short() {
		step = 7
	}
	for off := 0; off < to.hdrLen; off += step {
		for bit := range 8 {
			obj := bytes.Clone(to.obj)
			obj[off] ^= 1 << bit
			r, err := NewReader(bytes.NewReader(obj), int64(len(obj)), testDEK)
			var want []error
			switch {
			case off < offVersion:
				want = []error{ErrBadMagic}
			case off == offVersion:
				want = []error{ErrUnsupportedVersion}
			case off == offSuite:
				want = []error{ErrUnsupportedSuite}
			case off < offMaxChunk:
				want = []error{ErrHeaderMalformed}
			case off < offRecID:
				v := binary.BigEndian.Uint32(obj[offMaxChunk:])
				want = []error{ErrHeaderTampered}
				if v < MinChunkSize || v > MaxChunkSizeLimit {
					want = []error{ErrHeaderMalformed}
				}
			case off < offContextLen:
				// The recording id salts the key schedule: a changed id
				// is a wrong key for this DEK.
				want = []error{ErrWrongKey}
			case off < fixedLen:
				// Length fields move every later field: the header no
				// longer parses, or runs past the object.
				want = []error{ErrHeaderMalformed, ErrTruncated}
			case off < ctxEnd:
				want = []error{ErrHeaderMalformed, ErrHeaderTampered}
			case off < to.authLen:
				want = []error{ErrWrongKey}
			case off < to.authLen+macLen:
				want = []error{ErrHeaderTampered}
			default:
				// The envelope is not authenticated by the header: a
				// flip that still parses leaves the media readable
				// (the KMS rejects a damaged wrapped DEK).
				want = []error{nil, ErrHeaderMalformed}
			}
			ok := false
			for _, w := range want {
				if (w == nil && err == nil) || (w != nil && errors.Is(err, w)) {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("flip byte %d bit %d: got %v, want one of %v", off, bit, err, want)
			}
			if err == nil {
				if s, err := r.Verify(); err != nil || s.Status != StatusComplete {
					t.Fatalf("flip in envelope byte %d: Verify = %+v, %v", off, s, err)
				}
			}
		}
	}
}

func TestTamperChunkBits(t *testing.T) {
	for _, comp := range []bool{false, true} {
		t.Run(fmt.Sprintf("z=%v", comp), func(t *testing.T) {
			to := newTamperObject(t, comp)
			for i, l := range to.chunks {
				step := 1
				if i != 0 && i != len(to.chunks)-1 {
					step = 5 // every bit of the first and last chunk, a sample of the rest
				}
				if testing.Short() {
					step = 13
				}
				for bitOff := 0; bitOff < int(l.end()-l.off)*8; bitOff += step {
					obj := bytes.Clone(to.obj)
					pos := int(l.off) + bitOff/8
					obj[pos] ^= 1 << (bitOff % 8)
					want := ErrChunkAuth
					// A sealed length that is still plausible for the chunk
					// but points past the end of the object is
					// indistinguishable from a truncation (docs/format.md).
					// Only compressed chunks leave room for that.
					q := loc{off: l.off, p: parsePrefix(obj[l.off:])}
					if q.p.wellFormed(256) == nil && q.end() > int64(len(obj)) {
						want = ErrTruncated
					}
					if err := checkFailure(to, obj, want, i); err != nil {
						t.Fatalf("chunk %d, byte %d of chunk, bit %d: %v", i, bitOff/8, bitOff%8, err)
					}
				}
			}
		})
	}
}

func TestTamperChunkStructure(t *testing.T) {
	to := newTamperObject(t, false)
	cs := to.allChunks()
	n := len(cs)
	other := func() []byte {
		h := testHeader()
		h.RecordingID[0] ^= 0xff
		o := writeObject(t, h, to.recs, writeOpts{maxChunk: 256, flushEvery: 9})
		return o[to.hdrLen:]
	}()
	otherChunk := other[:len(cs[2])] // same framing: same records, same chunking
	withTag := bytes.Clone(otherChunk)
	copy(withTag, to.obj[to.chunks[0].off:to.chunks[0].off+8])

	swap := func(i, j int) [][]byte {
		c := append([][]byte(nil), cs...)
		c[i], c[j] = c[j], c[i]
		return c
	}
	drop := func(i int) [][]byte {
		return append(append([][]byte(nil), cs[:i]...), cs[i+1:]...)
	}
	dup := func(i int) [][]byte {
		c := append([][]byte(nil), cs[:i+1]...)
		c = append(c, cs[i])
		return append(c, cs[i+1:]...)
	}
	replace := func(i int, b []byte) [][]byte {
		c := append([][]byte(nil), cs...)
		c[i] = b
		return c
	}
	cases := []struct {
		name   string
		chunks [][]byte
		extra  []byte
		want   error
		bad    int
	}{
		{"swap 1,2", swap(1, 2), nil, ErrChunkOrder, 1},
		{"swap 0,last", swap(0, n-1), nil, ErrChunkOrder, 0},
		{"swap last two", swap(n-2, n-1), nil, ErrChunkOrder, n - 2},
		{"drop 0", drop(0), nil, ErrChunkOrder, 0},
		{"drop 2", drop(2), nil, ErrChunkOrder, 2},
		{"drop final", drop(n - 1), nil, ErrTruncated, n - 1},
		{"duplicate 2", dup(2), nil, ErrChunkOrder, 3},
		{"duplicate final", dup(n - 1), nil, ErrTrailingData, n - 1},
		{"splice from another recording", replace(2, otherChunk), nil, ErrChunkForeign, 2},
		{"splice with our recording tag", replace(2, withTag), nil, ErrChunkAuth, 2},
		{"trailing byte", cs, []byte{0}, ErrTrailingData, n - 1},
		{"trailing chunk of another recording", cs, otherChunk, ErrTrailingData, n - 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := append(to.build(tc.chunks...), tc.extra...)
			expectFailure(t, to, obj, tc.want, tc.bad)
		})
	}
}

func TestTruncation(t *testing.T) {
	for _, comp := range []bool{false, true} {
		t.Run(fmt.Sprintf("z=%v", comp), func(t *testing.T) {
			to := newTamperObject(t, comp)
			for cut := 0; cut < len(to.obj); cut++ {
				obj := to.obj[:cut]
				// Chunks wholly before the cut are the verified prefix.
				whole := 0
				for whole < len(to.chunks) && to.chunks[whole].end() <= int64(cut) {
					whole++
				}
				want := ErrTruncated
				if cut > 0 && cut < len(magic) {
					want = ErrTruncated // a prefix of the magic: a torn header
				}
				if cut < to.hdrLen {
					if _, err := NewReader(bytes.NewReader(obj), int64(cut), testDEK); !errors.Is(err, want) {
						t.Fatalf("cut %d in header: %v", cut, err)
					}
					continue
				}
				if err := checkFailure(to, obj, want, whole); err != nil {
					t.Fatalf("cut at %d: %v", cut, err)
				}

				// Salvage returns exactly the verified prefix, TRUNCATED.
				got, st, err := readAll(obj, testDEK, WithSalvage())
				if err != nil || st != StatusTruncated {
					t.Fatalf("cut %d: salvage status %v, err %v", cut, st, err)
				}
				sameRecords(t, got, to.recs[:to.chunkRecs[whole]])
			}
		})
	}
}

func TestWrongKey(t *testing.T) {
	to := newTamperObject(t, false)
	for _, dek := range [][]byte{bytes.Repeat([]byte{0x43}, 32), make([]byte, 32)} {
		if _, err := NewReader(bytes.NewReader(to.obj), int64(len(to.obj)), dek); !errors.Is(err, ErrWrongKey) {
			t.Fatalf("wrong DEK: %v", err)
		}
	}
	if _, err := NewReader(bytes.NewReader(to.obj), int64(len(to.obj)), testDEK[:16]); !errors.Is(err, ErrKeySize) {
		t.Fatalf("short DEK: %v", err)
	}
}

// TestFailedOpenClears checks that a chunk failing authentication leaves no
// plaintext in the reader's buffers.
func TestFailedOpenClears(t *testing.T) {
	to := newTamperObject(t, false)
	obj := bytes.Clone(to.obj)
	l := to.chunks[1]
	obj[l.end()-1] ^= 1 // last tag byte
	r, err := NewReader(bytes.NewReader(obj), int64(len(obj)), testDEK)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Chunk(0); err != nil {
		t.Fatal(err)
	}
	recs, err := r.Chunk(1)
	if !errors.Is(err, ErrChunkAuth) || recs != nil {
		t.Fatalf("Chunk(1) = %v, %v", recs, err)
	}
	if !allZero(r.body[:l.p.sealedLen-tagLen]) {
		t.Fatal("plaintext left in the body buffer after a failed open")
	}
}

// TestRandomAccessBlamesDamagedLength: shrinking a compressed chunk's sealed
// length keeps its framing plausible and sends the walk into the middle of
// the next chunk; random access beyond it must still report the damaged
// chunk, not a phantom foreign or misordered one.
func TestRandomAccessBlamesDamagedLength(t *testing.T) {
	to := newTamperObject(t, true)
	j := -1
	for i, l := range to.chunks[:len(to.chunks)-2] {
		if l.p.flags&flagCompressed != 0 {
			j = i
			break
		}
	}
	if j < 0 {
		t.Fatal("no compressed chunk in the test object")
	}
	obj := bytes.Clone(to.obj)
	l := to.chunks[j]
	binary.BigEndian.PutUint32(obj[l.off+20:], l.p.sealedLen-3)
	r, err := NewReader(bytes.NewReader(obj), int64(len(obj)), testDEK)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Chunk(j + 2); !errors.Is(err, ErrChunkAuth) {
		t.Fatalf("Chunk(%d) past a damaged length: %v", j+2, err)
	}
	expectFailure(t, to, obj, ErrChunkAuth, j)
}
