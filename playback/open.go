package playback

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/mediaseal/mediaseal/media/export"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// Recording is an opened, key-verified recording.
type Recording struct {
	*seal.Reader
	Index  Entry
	closer io.Closer
}

// Close releases the underlying object.
func (r *Recording) Close() error {
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

// Open finds a recording in object storage (or still in the spool),
// unwraps its DEK and returns a verifying reader in salvage mode: a
// recording without a final chunk reads as TRUNCATED. It compares nothing
// with the index: exports and Verify check the object first.
func (s *Service) Open(ctx context.Context, id string) (*Recording, error) {
	rec, _, err := s.d.Index.Recording(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkShredded(id, rec); err != nil {
		return nil, err
	}
	src, err := s.openObject(ctx, id, rec)
	if err != nil {
		return nil, err
	}
	return s.openReader(ctx, id, rec, src, true)
}

// checkShredded refuses to open a SHREDDED recording, before any KMS call.
func checkShredded(id string, rec Entry) error {
	if rec.Status == StatusShredded {
		return fmt.Errorf("%w (recording %s, key %s:%s)", ErrShredded, id, rec.KeyProvider, rec.KeyID)
	}
	return nil
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
// entry, zero if it has none).
func (s *Service) openObject(ctx context.Context, id string, rec Entry) (object, error) {
	if s.d.Spool != nil {
		if e, ok := s.d.Spool.Find(id); ok {
			f, err := os.Open(e.Path)
			if err != nil {
				return object{}, err
			}
			return object{ra: f, size: e.Size, closer: f, stream: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(io.NewSectionReader(f, 0, e.Size)), nil
			}}, nil
		}
	}
	if rec.ObjectKey == "" {
		return object{}, fmt.Errorf("%w: %s", ErrRecordingNotFound, id)
	}
	info, err := s.d.Objects.Head(ctx, rec.ObjectKey)
	if err != nil {
		return object{}, fmt.Errorf("recording %s: %w", id, err)
	}
	return object{ra: storage.NewReaderAt(ctx, s.d.Objects, rec.ObjectKey), size: info.Size, stream: func(ctx context.Context) (io.ReadCloser, error) {
		return s.d.Objects.Get(ctx, rec.ObjectKey, 0, -1)
	}}, nil
}

// openReader unwraps the DEK of the recording in src and returns a
// reader over it that verifies the header now and each chunk as it is
// read; salvage reads the verified prefix of an object with no final
// chunk. It takes ownership of src.
func (s *Service) openReader(ctx context.Context, id string, rec Entry, src object, salvage bool) (*Recording, error) {
	h, err := seal.ParseHeader(io.NewSectionReader(src.ra, 0, src.size))
	if err != nil {
		closeQuiet(src.closer)
		return nil, fmt.Errorf("recording %s: %w", id, err)
	}
	dek, err := s.d.Keys.Unwrap(ctx, id, h)
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

// Timeline reads every record of r and rebuilds its tracks, for a caller
// that inspects them rather than exporting a container.
func (r *Recording) Timeline() (*export.Timeline, error) {
	return buildTimeline(func(fn func(seal.Record)) error {
		_, err := r.ScanRecords(func(rec seal.Record) error { fn(rec); return nil })
		return err
	}, exportHeader(r.Header()), export.Options{})
}
