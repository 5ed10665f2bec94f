package storagetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/mediaseal/mediaseal/storage"
)

func testGetRange(t *testing.T, ctx context.Context, s storage.Store, _ Options) {
	const key, size = "r/obj", 1000
	b := payload(8, size)
	put(t, ctx, s, key, b)
	tests := []struct {
		off, n   int64
		from, to int // expected b[from:to]
	}{
		{0, -1, 0, size},
		{0, 0, 0, 0},
		{0, 1, 0, 1},
		{10, 100, 10, 110},
		{999, 1, 999, 1000},
		{999, -1, 999, 1000},
		{999, 10, 999, 1000},  // clamped at the end
		{0, 5000, 0, size},    // clamped at the end
		{1000, -1, 0, 0},      // at the end: empty
		{1000, 5, 0, 0},       // at the end: empty
		{5000, 10, 0, 0},      // past the end: empty
		{500, 0, 0, 0},        // zero length
		{1, size - 2, 1, 999}, // inner
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d+%d", tt.off, tt.n), func(t *testing.T) {
			if got := get(t, ctx, s, key, tt.off, tt.n); !bytes.Equal(got, b[tt.from:tt.to]) {
				t.Fatalf("got %d bytes, want b[%d:%d]", len(got), tt.from, tt.to)
			}
		})
	}
	t.Run("negative offset", func(t *testing.T) {
		_, err := s.Get(ctx, key, -1, 5)
		wantErr(t, "Get(-1, 5)", err, storage.ErrInvalidRange)
	})
}

func testGetRangeEmpty(t *testing.T, ctx context.Context, s storage.Store, _ Options) {
	const key = "r/empty"
	put(t, ctx, s, key, nil)
	for _, r := range [][2]int64{{0, -1}, {0, 0}, {0, 10}, {3, -1}} {
		if got := get(t, ctx, s, key, r[0], r[1]); len(got) != 0 {
			t.Errorf("Get(%d, %d) of an empty object = %d bytes", r[0], r[1], len(got))
		}
	}
}

func testReaderAt(t *testing.T, ctx context.Context, s storage.Store, _ Options) {
	const key, size = "r/at", 3000
	b := payload(9, size)
	put(t, ctx, s, key, b)
	ra := storage.NewReaderAt(ctx, s, key)
	p := make([]byte, 100)
	if n, err := ra.ReadAt(p, 1000); n != 100 || err != nil || !bytes.Equal(p, b[1000:1100]) {
		t.Fatalf("ReadAt(100, 1000) = %d, %v", n, err)
	}
	if n, err := ra.ReadAt(p, size-40); n != 40 || err != io.EOF || !bytes.Equal(p[:n], b[size-40:]) {
		t.Fatalf("ReadAt across the end = %d, %v; want 40, EOF", n, err)
	}
	if n, err := ra.ReadAt(p, size); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt at the end = %d, %v; want 0, EOF", n, err)
	}
	got, err := io.ReadAll(io.NewSectionReader(ra, 0, size))
	if err != nil || !bytes.Equal(got, b) {
		t.Fatalf("SectionReader read %d bytes, %v", len(got), err)
	}
}

func testNotFound(t *testing.T, ctx context.Context, s storage.Store, _ Options) {
	put(t, ctx, s, "nf/present", payload(10, 10))
	for _, key := range []string{"nf/absent", "nf/present/child", "nf/presen", "nf"} {
		t.Run(key, func(t *testing.T) {
			_, err := s.Head(ctx, key)
			wantErr(t, "Head", err, storage.ErrNotFound)
			for _, r := range [][2]int64{{0, -1}, {0, 0}, {5, 10}} {
				rc, err := s.Get(ctx, key, r[0], r[1])
				if err == nil {
					rc.Close()
				}
				wantErr(t, fmt.Sprintf("Get(%d, %d)", r[0], r[1]), err, storage.ErrNotFound)
			}
		})
	}
}
