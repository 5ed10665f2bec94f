package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mediaseal/mediaseal/ceremony/store"
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
// It compares nothing with the index: exports go through openForExport.
func (g *Gateway) OpenRecording(ctx context.Context, id string) (*Recording, error) {
	rec, err := g.index.GetRecording(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err := checkShredded(id, rec); err != nil {
		return nil, err
	}
	src, err := g.openObject(ctx, id, rec)
	if err != nil {
		return nil, err
	}
	return g.openReader(ctx, id, rec, src, true)
}

// object is where a recording's sealed bytes are read from: the spool
// file while it is there, else the stored object.
type object struct {
	ra     io.ReaderAt
	size   int64
	closer io.Closer
	// stream returns the whole object as one sequential read (one request
	// on remote storage), for hashing it.
	stream func(ctx context.Context) (io.ReadCloser, error)
}

// openObject opens the sealed bytes of recording id (rec is its index
// row, zero if it has none).
func (g *Gateway) openObject(ctx context.Context, id string, rec store.Recording) (object, error) {
	if e, ok := g.spool.Find(id); ok {
		f, err := os.Open(e.Path)
		if err != nil {
			return object{}, err
		}
		return object{ra: f, size: e.Size, closer: f, stream: func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(io.NewSectionReader(f, 0, e.Size)), nil
		}}, nil
	}
	if rec.ObjectKey == "" {
		return object{}, fmt.Errorf("%w: %s", ErrRecordingNotFound, id)
	}
	info, err := g.objects.Head(ctx, rec.ObjectKey)
	if err != nil {
		return object{}, fmt.Errorf("recording %s: %w", id, err)
	}
	return object{ra: storage.NewReaderAt(ctx, g.objects, rec.ObjectKey), size: info.Size, stream: func(ctx context.Context) (io.ReadCloser, error) {
		return g.objects.Get(ctx, rec.ObjectKey, 0, -1)
	}}, nil
}

// openReader unwraps the DEK of the recording in src and returns a
// reader over it that verifies the header now and each chunk as it is
// read; salvage reads the verified prefix of an object with no final
// chunk. It takes ownership of src.
func (g *Gateway) openReader(ctx context.Context, id string, rec store.Recording, src object, salvage bool) (*Recording, error) {
	h, err := seal.ParseHeader(io.NewSectionReader(src.ra, 0, src.size))
	if err != nil {
		closeQuiet(src.closer)
		return nil, fmt.Errorf("recording %s: %w", id, err)
	}
	dek, err := g.unwrap(ctx, id, h)
	if err != nil {
		closeQuiet(src.closer)
		return nil, fmt.Errorf("recording %s: unwrap DEK: %w", id, err)
	}
	defer clear(dek)
	var opts []seal.ReaderOption
	if salvage {
		opts = append(opts, seal.WithSalvage())
	}
	r, err := seal.NewReader(src.ra, src.size, dek, opts...)
	if err != nil {
		closeQuiet(src.closer)
		return nil, fmt.Errorf("recording %s: %w", id, err)
	}
	return &Recording{Reader: r, Index: rec, closer: src.closer}, nil
}

func closeQuiet(c io.Closer) {
	if c != nil {
		c.Close()
	}
}
