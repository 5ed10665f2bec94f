package storage

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key      string
	Size     int64
	Modified time.Time
	// SHA256 is the hex SHA-256 of the whole object when the backend knows it.
	SHA256 string
}

// PutOptions qualify a Put.
type PutOptions struct {
	// SHA256 is the hex SHA-256 the caller computed; the backend verifies it
	// and fails with ErrChecksum on mismatch.
	SHA256 string
	// Size is the object size when known (> 0); the backend fails with
	// ErrChecksum when the stream has another length. 0 or -1: unknown.
	Size int64
	// RetainUntil, when set, asks for object-lock retention where supported.
	RetainUntil time.Time
	// Tags are stored with the object where supported.
	Tags map[string]string
	// PartBoundaries optionally lists ascending offsets at which the stream
	// may be cut (for a sealed recording: the end of each chunk). Backends
	// that upload in parts end every part but the last on one of them, so a
	// part never splits a chunk; without them parts have a fixed size.
	PartBoundaries []int64
}

// Store is the contract every object-store adapter implements. Methods are
// safe for concurrent use.
type Store interface {
	// Put stores the whole of r at key, replacing any previous object.
	Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (ObjectInfo, error)
	// Get returns length bytes from offset (length < 0 means to the end).
	// The range is clamped to the object: an offset at or past the end
	// yields an empty body, like reading a file past EOF. A negative offset
	// is ErrInvalidRange; a missing object is ErrNotFound.
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Head describes the object at key.
	Head(ctx context.Context, key string) (ObjectInfo, error)
	// List returns the objects whose key starts with prefix, in key order.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Delete removes the object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
}

// ValidateKey checks an object key: relative, slash-separated, no empty,
// "." or ".." segments, no control characters.
func ValidateKey(key string) error {
	if key == "" || len(key) > 1024 {
		return fmt.Errorf("%w: length %d", ErrInvalidKey, len(key))
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: %q has an empty or relative segment", ErrInvalidKey, key)
		}
	}
	for _, c := range key {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return fmt.Errorf("%w: %q has a forbidden character", ErrInvalidKey, key)
		}
	}
	return nil
}

// ValidatePrefix checks a List prefix: empty, or the beginning of a valid
// key (it may end inside a segment or with a slash).
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := ValidateKey(prefix + "x"); err != nil {
		return fmt.Errorf("prefix: %w", err)
	}
	return nil
}

// ReaderAt adapts an object to io.ReaderAt through ranged Gets, so that a
// sealed recording can be verified in place.
type ReaderAt struct {
	ctx   context.Context //nolint:containedctx // scoped to one read pass
	store Store
	key   string
}

// NewReaderAt returns an io.ReaderAt over the object at key. ctx bounds every read.
func NewReaderAt(ctx context.Context, s Store, key string) *ReaderAt {
	return &ReaderAt{ctx: ctx, store: s, key: key}
}

// ReadAt implements io.ReaderAt.
func (r *ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	rc, err := r.store.Get(r.ctx, r.key, off, int64(len(p)))
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}

// LegalHolder is a Store that can put an object under legal hold: while
// the flag is on the store itself refuses to delete the object, whatever
// its retention or a lifecycle rule says (S3 object lock legal hold).
type LegalHolder interface {
	SetLegalHold(ctx context.Context, key string, on bool) error
}

// DeletedVersion is one stored version a Purge removed.
type DeletedVersion struct {
	Key       string `json:"key"`
	VersionID string `json:"versionId,omitempty"`
	// DeleteMarker: the version was a delete marker, not data.
	DeleteMarker bool   `json:"deleteMarker,omitempty"`
	Size         int64  `json:"size"`
	ETag         string `json:"etag,omitempty"`
}

// Purger is a Store that keeps versions (an object-lock bucket) and can
// delete every version of an object, not only hide it behind a delete
// marker as Delete does. A version still retained or held is refused by
// the store, and Purge fails with what it deleted so far.
type Purger interface {
	Purge(ctx context.Context, key string) ([]DeletedVersion, error)
}
