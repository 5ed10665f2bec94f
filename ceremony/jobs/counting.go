package jobs

import (
	"context"
	"io"
	"sync/atomic"

	"github.com/mediaseal/mediaseal/storage"
)

// countingStore counts the object bytes a job reads and writes, so its
// progress can show that a rewrap touched no media.
type countingStore struct {
	storage.Store
	read, written atomic.Int64
}

var _ storage.Store = (*countingStore)(nil)

func (c *countingStore) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	rc, err := c.Store.Get(ctx, key, offset, length)
	if err != nil {
		return nil, err
	}
	return &countingReader{ReadCloser: rc, n: &c.read}, nil
}

func (c *countingStore) Put(ctx context.Context, key string, r io.Reader, opts storage.PutOptions) (storage.ObjectInfo, error) {
	return c.Store.Put(ctx, key, &countingReader{ReadCloser: io.NopCloser(r), n: &c.written}, opts)
}

type countingReader struct {
	io.ReadCloser
	n *atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.n.Add(int64(n))
	return n, err
}
