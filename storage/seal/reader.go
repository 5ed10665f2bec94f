package seal

import (
	"errors"
	"fmt"
	"io"
	"sort"
)

// Reader reads a seal object. It verifies the header (key commitment, then
// MAC) in NewReader, and each chunk before releasing any of its plaintext.
// It is not safe for concurrent use.
type Reader struct {
	src      io.ReaderAt
	size     int64
	raw      *rawHeader
	cio      chunkIO
	maxChunk uint32
	ntracks  int
	salvage  bool

	// The walk follows the clear prefixes. locs holds the chunks whose
	// framing is consistent (authenticity is checked when they are opened);
	// once walkDone, walkErr says why the walk stopped (nil: it reached an
	// authentic-looking final chunk exactly at the end of the object).
	locs     []loc
	walkEnd  int64
	walkDone bool
	walkErr  error

	pbuf [prefixLen]byte
	// next caches the prefix that follows the last chunk read: decrypt
	// reads it together with the body, so a sequential read costs one
	// ReadAt per chunk (one range request on remote storage).
	next    [prefixLen]byte
	nextOff int64  // offset of next, or -1
	body    []byte // sealed payload; opened in place
	plain   []byte // decompressed payload
	recs    []Record
}

type loc struct {
	off int64 // offset of the prefix
	p   prefix
}

func (l *loc) end() int64 { return l.off + prefixLen + int64(l.p.sealedLen) }

// NewReader parses the header of the size-byte object in src and verifies it
// with dek: a wrong key fails with ErrWrongKey, an altered header with
// ErrHeaderTampered, before any chunk is read.
func NewReader(src io.ReaderAt, size int64, dek []byte, opts ...ReaderOption) (*Reader, error) {
	var o readerOptions
	for _, opt := range opts {
		opt(&o)
	}
	if len(dek) != 32 {
		return nil, fmt.Errorf("%w: got %d", ErrKeySize, len(dek))
	}
	raw, err := readHeader(io.NewSectionReader(src, 0, size))
	if err != nil {
		return nil, err
	}
	ks, err := openHeader(raw, dek)
	if err != nil {
		return nil, err
	}
	r := &Reader{
		src:      src,
		size:     size,
		raw:      raw,
		maxChunk: raw.h.MaxChunkSize,
		ntracks:  len(raw.h.Context.Tracks),
		salvage:  o.salvage,
		walkEnd:  int64(len(raw.bytes)),
		nextOff:  -1,
	}
	r.cio.init(ks, &raw.h.RecordingID)
	return r, nil
}

// Header returns the verified header. Its Envelope is the one stored in the
// object, which a newer sidecar envelope may supersede (see docs/format.md).
func (r *Reader) Header() *Header { return &r.raw.h }

// HeaderLen is the size of the header in bytes.
func (r *Reader) HeaderLen() int { return len(r.raw.bytes) }

// NumChunks walks the clear chunk prefixes and returns the number of chunks.
// The count is not authenticated until the chunks are read. Without
// WithSalvage an object with no final chunk yields ErrTruncated; with it, the
// count of chunks before the break (and the error unless it is a plain
// truncation).
func (r *Reader) NumChunks() (int, error) {
	for !r.walkDone {
		r.walkNext()
	}
	return len(r.locs), r.walkResult()
}

// walkResult is the error the walk reports to the caller.
func (r *Reader) walkResult() error {
	if r.walkErr == nil || (r.salvage && errors.Is(r.walkErr, ErrTruncated)) {
		return nil
	}
	return r.walkErr
}

// Chunk verifies chunk i and returns its records. The records and their Data
// are valid until the next call on r. It verifies chunk i only (and reads the
// prefixes before it): whether the object is complete is for Verify or
// Records to say.
func (r *Reader) Chunk(i int) ([]Record, error) {
	if i < 0 {
		return nil, fmt.Errorf("%w: %d", ErrChunkRange, i)
	}
	for i >= len(r.locs) && !r.walkDone {
		r.walkNext()
	}
	if i >= len(r.locs) {
		if r.walkErr != nil {
			return nil, r.walkErr
		}
		return nil, fmt.Errorf("%w: %d of %d", ErrChunkRange, i, len(r.locs))
	}
	recs, _, err := r.open(i, false, 0)
	return recs, err
}

// Records calls fn for every record in order, verifying each chunk before
// handing out any of its records. It stops at the first error from fn.
//
// Chunks are released as they verify, as in any streaming AEAD: a caller
// that must not act on a prefix of a damaged object runs Verify first.
// Without WithSalvage an object with no final chunk ends in ErrTruncated
// (status TRUNCATED). With it, the verified prefix is returned with status
// TRUNCATED and a nil error if the object simply ends early, or with the
// error that stopped the read otherwise.
func (r *Reader) Records(fn func(Record) error) (Status, error) {
	s, err := r.ScanRecords(fn)
	return s.Status, err
}

// ScanRecords is Records returning the summary of what it read: the
// chunks it verified (the final one included) and how the object ends.
// A caller that compares the chunk count with a count kept elsewhere (an
// index) uses it instead of a second pass with Verify.
func (r *Reader) ScanRecords(fn func(Record) error) (Summary, error) {
	s, _, err := r.scan(func(recs []Record) error {
		for _, rec := range recs {
			if err := fn(rec); err != nil {
				return err
			}
		}
		return nil
	})
	return s, err
}

// Verify authenticates the whole object and summarises it.
func (r *Reader) Verify() (Summary, error) {
	s, _, err := r.scan(nil)
	return s, err
}

// scanEnd is where a scan stopped: the offset after the last verified chunk
// and the running arrival maximum there.
type scanEnd struct {
	end        int64
	arrivalMax int64
}

// scan verifies chunks in order, passing each chunk's records to fn.
func (r *Reader) scan(fn func([]Record) error) (Summary, scanEnd, error) {
	var s Summary
	pos := scanEnd{end: int64(len(r.raw.bytes)), arrivalMax: noArrival}
	for i := 0; ; i++ {
		for i >= len(r.locs) && !r.walkDone {
			r.walkNext()
		}
		if i >= len(r.locs) {
			break
		}
		recs, plainLen, err := r.open(i, true, pos.arrivalMax)
		if err != nil {
			// A chunk whose framing looked right failed to verify:
			// nothing from it was released.
			s.Status = StatusTruncated
			return s, pos, err
		}
		l := &r.locs[i]
		s.Chunks++
		s.Records += int64(len(recs))
		s.PlainBytes += int64(plainLen)
		pos = scanEnd{end: l.end(), arrivalMax: l.p.arrivalMax}
		if fn != nil {
			if err := fn(recs); err != nil {
				return Summary{}, pos, err
			}
		}
	}
	if r.walkErr == nil {
		// The walk only ends cleanly on a final chunk, and open verified it.
		s.Status = StatusComplete
		if r.locs[len(r.locs)-1].p.typ == chunkRecovered {
			s.Status = StatusRecovered
		}
		return s, pos, nil
	}
	s.Status = StatusTruncated
	return s, pos, r.walkResult()
}

// walkNext reads the prefix of the next chunk and checks its framing. On
// any inconsistency it ends the walk with an error that says what the
// inconsistency most likely is (see classify).
func (r *Reader) walkNext() {
	i, off := len(r.locs), r.walkEnd
	stop := func(err error) {
		// Where chunk i starts is decided by chunk i-1's sealed length, so
		// an inconsistency here may really be damage to chunk i-1 (a
		// compressed chunk's length can shrink and still look plausible):
		// blame chunk i-1 unless it verifies.
		if i > 0 && !r.authentic(r.locs[i-1]) {
			err = fmt.Errorf("%w: chunk %d at offset %d", ErrChunkAuth, i-1, r.locs[i-1].off)
		}
		r.walkDone, r.walkErr = true, err
	}
	// An object that ends on a chunk boundary without a final chunk is
	// the truncation STREAM constructions exist to catch: the missing final
	// chunk would have been authenticated as final.
	if off == r.size {
		stop(fmt.Errorf("%w: no final chunk after %d chunks", ErrTruncated, i))
		return
	}
	if r.size-off < prefixLen {
		stop(fmt.Errorf("%w: %d bytes of chunk %d's prefix at offset %d", ErrTruncated, r.size-off, i, off))
		return
	}
	if off == r.nextOff {
		r.pbuf = r.next
	} else if err := r.readAt(r.pbuf[:], off); err != nil {
		stop(err)
		return
	}
	p := parsePrefix(r.pbuf[:])
	if !r.cio.tagMatches(&p) {
		stop(r.classifyTag(i, off, p))
		return
	}
	if err := p.wellFormed(r.maxChunk); err != nil {
		stop(fmt.Errorf("%w: chunk %d at offset %d: %v", ErrChunkAuth, i, off, err))
		return
	}
	l := loc{off: off, p: p}
	// A length running past the end is a truncation mid-chunk. (An altered
	// length field that points past the end looks the same; either way
	// nothing of this chunk is released.)
	if l.end() > r.size {
		stop(fmt.Errorf("%w: chunk %d at offset %d needs %d bytes, %d remain", ErrTruncated, i, off, prefixLen+int64(p.sealedLen), r.size-off))
		return
	}
	if p.index != uint32(i) {
		stop(r.classifyIndex(i, l))
		return
	}
	if p.typ.final() && l.end() != r.size {
		stop(r.classifyFinal(i, l))
		return
	}
	r.locs = append(r.locs, l)
	r.walkEnd = l.end()
	if p.typ.final() {
		r.walkDone = true
	}
}

// The classify functions decide between two explanations of an
// inconsistent prefix by trying to authenticate the chunk. A genuine chunk
// of this recording authenticates under its own prefix, so "it verifies"
// means it was moved (ErrChunkOrder, ErrTrailingData), and "it does not"
// means bits were changed (ErrChunkAuth). The trial is only made on these
// error paths; its plaintext is discarded and cleared.

// classifyTag: the recording tag is not ours. If restoring our tag makes the
// chunk verify, only the tag was flipped; otherwise it is foreign.
func (r *Reader) classifyTag(i int, off int64, p prefix) error {
	q := p
	q.tag = [8]byte(r.cio.aad[:8])
	l := loc{off: off, p: q}
	if q.wellFormed(r.maxChunk) == nil && l.end() <= r.size && r.authentic(l) {
		return fmt.Errorf("%w: chunk %d at offset %d: recording tag altered", ErrChunkAuth, i, off)
	}
	return fmt.Errorf("%w: chunk %d at offset %d has tag %x, this recording is %x", ErrChunkForeign, i, off, p.tag, r.cio.aad[:8])
}

// classifyIndex: position i holds a prefix with another index.
func (r *Reader) classifyIndex(i int, l loc) error {
	if r.authentic(l) {
		return fmt.Errorf("%w: chunk %d found at position %d (offset %d)", ErrChunkOrder, l.p.index, i, l.off)
	}
	return fmt.Errorf("%w: chunk %d at offset %d: index field reads %d", ErrChunkAuth, i, l.off, l.p.index)
}

// classifyFinal: a final chunk that is not at the end of the object.
func (r *Reader) classifyFinal(i int, l loc) error {
	if r.authentic(l) {
		return fmt.Errorf("%w: %d bytes after final chunk %d", ErrTrailingData, r.size-l.end(), i)
	}
	return fmt.Errorf("%w: chunk %d at offset %d: type field reads final", ErrChunkAuth, i, l.off)
}

// authentic reports whether the chunk at l verifies under l's prefix.
func (r *Reader) authentic(l loc) bool {
	_, err := r.decrypt(&l)
	clear(r.body)
	return err == nil
}

// decrypt reads and opens the chunk at l into r.body. On failure r.body
// holds nothing (crypto/cipher clears the output of a failed Open).
func (r *Reader) decrypt(l *loc) ([]byte, error) {
	n := int(l.p.sealedLen)
	if cap(r.body) < n+prefixLen {
		r.body = make([]byte, int(r.maxChunk)+tagLen+prefixLen)
	}
	// Read the next chunk's prefix along with this body when there is one.
	ahead := 0
	if r.size-l.end() >= prefixLen {
		ahead = prefixLen
	}
	r.body = r.body[:n+ahead]
	if err := r.readAt(r.body, l.off+prefixLen); err != nil {
		return nil, err
	}
	if ahead > 0 {
		copy(r.next[:], r.body[n:])
		r.nextOff = l.end()
	}
	r.body = r.body[:n]
	pt, err := r.cio.open(&l.p, r.body)
	if err != nil {
		return nil, fmt.Errorf("%w: chunk %d at offset %d", ErrChunkAuth, l.p.index, l.off)
	}
	return pt, nil
}

// open verifies chunk i and decodes its records. With sequential set,
// prevMax is the authenticated running arrival maximum of chunk i-1, and
// the chunk's arrival max must continue it exactly.
func (r *Reader) open(i int, sequential bool, prevMax int64) ([]Record, int, error) {
	l := &r.locs[i]
	pt, err := r.decrypt(l)
	if err != nil {
		return nil, 0, err
	}
	plain := pt
	if l.p.flags&flagCompressed != 0 {
		if cap(r.plain) < int(l.p.plainLen) {
			r.plain = make([]byte, r.maxChunk)
		}
		// The cap bounds the output at the authenticated plain length.
		plain, err = zstdDecoder().DecodeAll(pt, r.plain[:0:l.p.plainLen])
		clear(pt)
		if err != nil || len(plain) != int(l.p.plainLen) {
			clear(r.plain[:cap(r.plain)])
			return nil, 0, fmt.Errorf("%w: chunk %d does not decompress to %d bytes (%v)", ErrRecordMalformed, i, l.p.plainLen, err)
		}
	}
	recs, maxArr, err := decodeRecords(r.recs, plain, r.ntracks)
	r.recs = recs[:0]
	if err == nil {
		want := max(maxArr, prevMax)
		switch {
		case sequential && l.p.arrivalMax != want:
			err = fmt.Errorf("%w: chunk %d arrival max %d, records and previous chunks give %d", ErrRecordMalformed, i, l.p.arrivalMax, want)
		case !sequential && l.p.arrivalMax < maxArr:
			err = fmt.Errorf("%w: chunk %d arrival max %d below its records' %d", ErrRecordMalformed, i, l.p.arrivalMax, maxArr)
		}
	}
	if err != nil {
		clear(plain)
		clear(recs)
		return nil, 0, err
	}
	r.recs = recs
	return recs, len(plain), nil
}

// SeekTime returns the index of the first chunk that may hold records with
// Arrival >= t: every record in earlier chunks arrived before t. It returns
// the number of chunks when no record arrived at or after t.
//
// The answer rests on the arrival max in each chunk's prefix, which the
// chunk's tag authenticates: the search runs over the clear prefixes, then
// the two chunks that bracket the answer are verified, so an attacker
// without the key cannot move a seek.
func (r *Reader) SeekTime(t int64) (int, error) {
	n, err := r.NumChunks()
	if err != nil {
		return 0, err
	}
	i := sort.Search(n, func(k int) bool { return r.locs[k].p.arrivalMax >= t })
	if i < n && !r.authentic(r.locs[i]) {
		return 0, fmt.Errorf("%w: chunk %d at offset %d", ErrChunkAuth, i, r.locs[i].off)
	}
	if i > 0 && !r.authentic(r.locs[i-1]) {
		return 0, fmt.Errorf("%w: chunk %d at offset %d", ErrChunkAuth, i-1, r.locs[i-1].off)
	}
	// Authentic arrival maxima never decrease, so these two bracket t
	// unless some prefix the search used was altered.
	if (i < n && r.locs[i].p.arrivalMax < t) || (i > 0 && r.locs[i-1].p.arrivalMax >= t) {
		return 0, fmt.Errorf("%w: time index inconsistent around chunk %d", ErrChunkAuth, i)
	}
	return i, nil
}

func (r *Reader) readAt(b []byte, off int64) error {
	n, err := r.src.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("seal: reading %d bytes at offset %d: %w", len(b), off, err)
}
