// Package storagetest is the conformance suite every [storage.Store] adapter
// passes. An adapter's test calls [Run] with a function that returns a fresh,
// empty store; the suite covers round trips, ranged reads, listing order,
// idempotent deletes, error kinds, checksum verification, large multi-part
// objects, concurrency and cancellation.
package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/storage"
)

// DefaultLargeSize is the size of the large-object test when Options leave
// it zero: a little over two 5 MiB S3 parts, so that a multi-part upload
// has a short last part.
const DefaultLargeSize = 11<<20 + 4321

// Options tune the suite to a backend.
type Options struct {
	// LargeSize is the size of the large-object test; 0 means DefaultLargeSize.
	LargeSize int64
	// Timeout bounds every subtest; 0 means two minutes.
	Timeout time.Duration
}

// Run runs the conformance suite. newStore returns a fresh, empty store for
// one subtest; it registers its own cleanup with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store, opts Options) {
	t.Helper()
	if opts.LargeSize == 0 {
		opts.LargeSize = DefaultLargeSize
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Minute
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, ctx context.Context, s storage.Store, o Options)
	}{
		{"RoundTrip", testRoundTrip},
		{"PutReplaces", testPutReplaces},
		{"PutWithoutChecksum", testPutWithoutChecksum},
		{"ChecksumMismatch", testChecksumMismatch},
		{"GetRange", testGetRange},
		{"GetRangeEmptyObject", testGetRangeEmpty},
		{"ReaderAt", testReaderAt},
		{"NotFound", testNotFound},
		{"List", testList},
		{"Delete", testDelete},
		{"InvalidKeys", testInvalidKeys},
		{"InvalidPrefix", testInvalidPrefix},
		{"Large", testLarge},
		{"ConcurrentPuts", testConcurrentPuts},
		{"ContextCanceled", testContextCanceled},
		{"CancelMidPut", testCancelMidPut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
			defer cancel()
			tt.fn(t, ctx, s, opts)
		})
	}
}

// payload returns n deterministic pseudo-random bytes for seed.
func payload(seed uint64, n int64) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// put stores b at key with its checksum and size, failing the test on error.
func put(t *testing.T, ctx context.Context, s storage.Store, key string, b []byte) storage.ObjectInfo {
	t.Helper()
	info, err := s.Put(ctx, key, bytes.NewReader(b), storage.PutOptions{SHA256: sum(b), Size: int64(len(b))})
	if err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, len(b), err)
	}
	return info
}

// get reads a range of key, failing the test on error.
func get(t *testing.T, ctx context.Context, s storage.Store, key string, off, n int64) []byte {
	t.Helper()
	rc, err := s.Get(ctx, key, off, n)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): %v", key, off, n, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): read: %v", key, off, n, err)
	}
	return b
}

// wantErr fails unless err matches target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}

// checkInfo compares an ObjectInfo with the bytes stored.
func checkInfo(t *testing.T, what string, info storage.ObjectInfo, key string, b []byte) {
	t.Helper()
	if info.Key != key {
		t.Errorf("%s: Key = %q, want %q", what, info.Key, key)
	}
	if info.Size != int64(len(b)) {
		t.Errorf("%s: Size = %d, want %d", what, info.Size, len(b))
	}
	if info.SHA256 != "" && info.SHA256 != sum(b) {
		t.Errorf("%s: SHA256 = %s, want %s", what, info.SHA256, sum(b))
	}
}
