package storagetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/storage"
)

var invalidKeys = []string{
	"",
	"/abs",
	"trailing/",
	"a//b",
	"./a",
	"a/./b",
	"a/../b",
	"..",
	"../escape",
	`a\b`,
	"nul\x00byte",
	"new\nline",
	"del\x7f",
	strings.Repeat("k", 1025),
}

func testInvalidKeys(t *testing.T, ctx context.Context, s storage.Store, _ Options) {
	for _, key := range invalidKeys {
		t.Run("", func(t *testing.T) {
			_, err := s.Put(ctx, key, bytes.NewReader([]byte("x")), storage.PutOptions{})
			wantErr(t, "Put", err, storage.ErrInvalidKey)
			_, err = s.Head(ctx, key)
			wantErr(t, "Head", err, storage.ErrInvalidKey)
			rc, err := s.Get(ctx, key, 0, -1)
			if err == nil {
				rc.Close()
			}
			wantErr(t, "Get", err, storage.ErrInvalidKey)
			wantErr(t, "Delete", s.Delete(ctx, key), storage.ErrInvalidKey)
		})
	}
	// Nothing may have been written anywhere.
	if got, err := s.List(ctx, ""); err != nil || len(got) != 0 {
		t.Fatalf("List after invalid Puts = %v, %v; want nothing", got, err)
	}
}

func testInvalidPrefix(t *testing.T, ctx context.Context, s storage.Store, _ Options) {
	put(t, ctx, s, "p/x", payload(15, 5))
	for _, prefix := range []string{"/", "/p", "../", "p/../", "p//", "./", "p\x00", `p\`} {
		_, err := s.List(ctx, prefix)
		wantErr(t, "List("+prefix+")", err, storage.ErrInvalidKey)
	}
}

func testContextCanceled(t *testing.T, ctx context.Context, s storage.Store, _ Options) {
	put(t, ctx, s, "c/present", payload(16, 100))
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err := s.Put(canceled, "c/new", bytes.NewReader(payload(17, 100)), storage.PutOptions{})
	wantErr(t, "Put", err, context.Canceled)
	_, err = s.Head(canceled, "c/present")
	wantErr(t, "Head", err, context.Canceled)
	rc, err := s.Get(canceled, "c/present", 0, -1)
	if err == nil {
		rc.Close()
	}
	wantErr(t, "Get", err, context.Canceled)
	_, err = s.List(canceled, "c/")
	wantErr(t, "List", err, context.Canceled)
	wantErr(t, "Delete", s.Delete(canceled, "c/present"), context.Canceled)
	if _, err := s.Head(ctx, "c/new"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Head(c/new) after a canceled Put: %v, want ErrNotFound", err)
	}
	if _, err := s.Head(ctx, "c/present"); err != nil {
		t.Fatalf("Head(c/present) after a canceled Delete: %v", err)
	}
}

// cancelingReader cancels its context once after bytes, then keeps
// producing data, as a caller's stream would while its request dies.
type cancelingReader struct {
	r      *bytes.Reader
	after  int64
	read   int64
	cancel context.CancelFunc
}

func (c *cancelingReader) Read(p []byte) (int, error) {
	if c.read >= c.after {
		c.cancel()
	}
	n, err := c.r.Read(p[:min(len(p), 32<<10)])
	c.read += int64(n)
	return n, err
}

func testCancelMidPut(t *testing.T, ctx context.Context, s storage.Store, o Options) {
	for _, n := range []int64{64 << 10, o.LargeSize} {
		b := payload(18, n)
		const key = "c/mid"
		old := payload(19, 10)
		put(t, ctx, s, key, old)
		cctx, cancel := context.WithCancel(ctx)
		_, err := s.Put(cctx, key, &cancelingReader{r: bytes.NewReader(b), after: n / 2, cancel: cancel}, storage.PutOptions{SHA256: sum(b)})
		cancel()
		wantErr(t, "Put canceled midway", err, context.Canceled)
		if got := get(t, ctx, s, key, 0, -1); !bytes.Equal(got, old) {
			t.Fatalf("a canceled Put of %d bytes changed the object (%d bytes now)", n, len(got))
		}
	}
}
