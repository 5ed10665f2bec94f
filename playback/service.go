package playback

import (
	"context"
	"errors"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// Index statuses playback decides by (those of the recordings index).
const (
	StatusComplete  = "COMPLETE"
	StatusRecovered = "RECOVERED"
	StatusShredded  = "SHREDDED"
)

// Entry is what the recordings index says of one recording: the values a
// stored object is checked against, and the key its envelope is under.
type Entry struct {
	ID        string
	Status    string
	ObjectKey string
	// Bytes, SHA256 and Chunks are the object as its upload was confirmed.
	Bytes  int64
	SHA256 string
	Chunks int64
	// KeyProvider, KeyID and KeyVersion name the key of the current
	// envelope, WrappedDEK is that envelope (a rewrap replaces it in the
	// index, not in the object).
	KeyProvider, KeyID, KeyVersion string
	WrappedDEK                     []byte
}

// Index is the recordings index and the key registry, as playback reads
// them.
type Index interface {
	// Recording returns the index entry of id; ok is false when the
	// index holds none.
	Recording(ctx context.Context, id string) (e Entry, ok bool, err error)
	// KeyNotEnabled returns the registry's id and state of the key that
	// provider and keyID name when the registry holds it in a state other
	// than ENABLED; state "" means it is enabled or not registered.
	KeyNotEnabled(ctx context.Context, provider, keyID string) (registryID, state string, err error)
}

// Keys unwraps the DEK of a recording (id) whose header is h. The caller
// clears the returned key.
type Keys interface {
	Unwrap(ctx context.Context, id string, h *seal.Header) ([]byte, error)
}

// KeysFunc is a [Keys] as a function.
type KeysFunc func(ctx context.Context, id string, h *seal.Header) ([]byte, error)

// Unwrap calls f.
func (f KeysFunc) Unwrap(ctx context.Context, id string, h *seal.Header) ([]byte, error) {
	return f(ctx, id, h)
}

// Spool finds a recording still in the gateway's spool.
type Spool interface {
	Find(id string) (storage.SpoolEntry, bool)
}

// Deps are what a [Service] reads.
type Deps struct {
	Objects storage.Store
	Index   Index
	Keys    Keys
	// Spool, when set, is looked in first: a recording not yet uploaded
	// is read from there.
	Spool Spool
	// Platform is the platform key: it is never refused by the key
	// registry (it is not in it).
	Platform kms.KeyRef
}

// Service opens, verifies and exports recordings.
type Service struct {
	d Deps
}

// New checks deps and returns the service.
func New(d Deps) (*Service, error) {
	if d.Objects == nil || d.Index == nil || d.Keys == nil {
		return nil, errors.New("playback: Objects, Index and Keys are required")
	}
	return &Service{d: d}, nil
}
