package seal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// RecoverFile is what Recover needs of a spool file; *os.File satisfies it.
type RecoverFile interface {
	io.ReaderAt
	io.WriterAt
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
}

// Recover closes a spool file left without a final chunk by a crash. It
// verifies the header and every chunk in order, cuts the file after the last
// chunk that verifies (a torn write, or anything after it), and appends an
// empty recovered-final chunk, so that readers report StatusRecovered rather
// than TRUNCATED. The caller must own the file exclusively: no Writer may
// still be appending to it.
//
// A file that already ends in a verified final chunk is left untouched and
// its summary returned. A wrong dek fails with ErrWrongKey before anything
// is changed.
//
// Recover is idempotent. The recovered-final chunk is a function of the
// verified prefix alone (index, arrival max, empty payload), so a second run
// after a crash in the first writes the same bytes under the same nonce:
// identical plaintext and AAD, hence no nonce-reuse leak. Its type differs
// from any chunk a Writer could have sealed at that index.
func Recover(f RecoverFile, dek []byte) (Summary, error) {
	fi, err := f.Stat()
	if err != nil {
		return Summary{}, err
	}
	size := fi.Size()
	r, err := NewReader(f, size, dek, WithSalvage())
	if err != nil {
		return Summary{}, err
	}
	sum, pos, err := r.scan(nil)
	if err == nil && sum.Status != StatusTruncated {
		return sum, nil
	}
	// An I/O error says nothing about the file's contents: never cut on one.
	if err != nil && !damaged(err) {
		return sum, err
	}
	// Everything after the verified prefix is torn or damaged: in a spool
	// file written by one process that only happens at the tail.
	n := sum.Chunks
	if n >= MaxChunks {
		return sum, fmt.Errorf("%w: no index left for a recovered-final chunk", ErrTooManyChunks)
	}
	p := prefix{index: uint32(n), typ: chunkRecovered, arrivalMax: pos.arrivalMax}
	chunk := r.cio.seal(make([]byte, prefixLen, prefixLen+tagLen), &p)
	if err := f.Truncate(pos.end); err != nil {
		return sum, fmt.Errorf("seal: recover: truncating to %d: %w", pos.end, err)
	}
	if _, err := f.WriteAt(chunk, pos.end); err != nil {
		return sum, fmt.Errorf("seal: recover: writing recovered-final chunk: %w", err)
	}
	if s, ok := f.(interface{ Sync() error }); ok {
		if err := s.Sync(); err != nil {
			return sum, fmt.Errorf("seal: recover: sync: %w", err)
		}
	}
	sum.Status = StatusRecovered
	sum.Chunks++
	sum.TornBytes = size - pos.end
	return sum, nil
}

// damaged reports whether err is a verdict on the file's bytes.
func damaged(err error) bool {
	for _, e := range []error{ErrTruncated, ErrChunkAuth, ErrChunkForeign, ErrChunkOrder, ErrTrailingData, ErrRecordMalformed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
