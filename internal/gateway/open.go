package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mediaseal/mediaseal/internal/store"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// Recording is an opened, key-verified recording.
type Recording struct {
	*seal.Reader
	Index  store.Recording
	closer io.Closer
}

// Close releases the underlying object.
func (r *Recording) Close() error {
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

// ErrRecordingNotFound means the id names no recording.
var ErrRecordingNotFound = errors.New("recording not found")

// OpenRecording finds a recording in object storage (or still in the
// spool), unwraps its DEK through its KMS and returns a verifying reader
// in salvage mode: a recording without a final chunk reads as TRUNCATED.
func (g *Gateway) OpenRecording(ctx context.Context, id string) (*Recording, error) {
	rec, err := g.index.GetRecording(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err := checkShredded(id, rec); err != nil {
		return nil, err
	}
	var (
		ra   io.ReaderAt
		size int64
		c    io.Closer
	)
	if e, ok := g.spool.Find(id); ok {
		f, err := os.Open(e.Path)
		if err != nil {
			return nil, err
		}
		ra, size, c = f, e.Size, f
	} else if rec.ObjectKey != "" {
		info, err := g.objects.Head(ctx, rec.ObjectKey)
		if err != nil {
			return nil, fmt.Errorf("recording %s: %w", id, err)
		}
		ra, size = storage.NewReaderAt(ctx, g.objects, rec.ObjectKey), info.Size
	} else {
		return nil, fmt.Errorf("%w: %s", ErrRecordingNotFound, id)
	}
	h, err := seal.ParseHeader(io.NewSectionReader(ra, 0, size))
	if err != nil {
		closeQuiet(c)
		return nil, fmt.Errorf("recording %s: %w", id, err)
	}
	dek, err := g.unwrap(ctx, id, h)
	if err != nil {
		closeQuiet(c)
		return nil, fmt.Errorf("recording %s: unwrap DEK: %w", id, err)
	}
	defer clear(dek)
	r, err := seal.NewReader(ra, size, dek, seal.WithSalvage())
	if err != nil {
		closeQuiet(c)
		return nil, fmt.Errorf("recording %s: %w", id, err)
	}
	return &Recording{Reader: r, Index: rec, closer: c}, nil
}

func closeQuiet(c io.Closer) {
	if c != nil {
		c.Close()
	}
}
