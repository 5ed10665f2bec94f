package fs_test

import (
	"bytes"
	"context"
	"errors"
	iofs "io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/fs"
	"github.com/mediaseal/mediaseal/storage/storagetest"
)

func newStore(t *testing.T) storage.Store {
	s, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, newStore, storagetest.Options{})
}

func TestPermissionsAndNoLeftovers(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := fs.New(root)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte("ciphertext")
	if _, err := s.Put(ctx, "acme/2026/03/07/r.seal", bytes.NewReader(b), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// Failed Puts of every kind leave no temporary file behind.
	_, _ = s.Put(ctx, "acme/2026/03/07/bad", bytes.NewReader(b), storage.PutOptions{SHA256: strings.Repeat("0", 64)})
	_, _ = s.Put(ctx, "acme/2026/03/07/short", bytes.NewReader(b), storage.PutOptions{Size: 99})
	_, _ = s.Put(ctx, "acme/2026/03/07/src", iotest.ErrReader(errors.New("boom")), storage.PutOptions{})
	err = filepath.WalkDir(root, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		want := iofs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if p != root && st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, st.Mode().Perm(), want)
		}
		if !d.IsDir() && filepath.Base(p) != "r.seal" {
			t.Errorf("leftover file %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFilesystemConflicts(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if _, err := s.Put(ctx, "a/b", strings.NewReader("x"), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "c/d/e", strings.NewReader("x"), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ key, why string }{
		{"a/b/c", "an object is a parent directory"},
		{"c/d", "a directory of objects is at the key"},
		{"x/.put-123", "temporary-file names are reserved"},
	}
	for _, tt := range tests {
		_, err := s.Put(ctx, tt.key, strings.NewReader("y"), storage.PutOptions{})
		if !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Put(%q) (%s) = %v, want ErrInvalidKey", tt.key, tt.why, err)
		}
	}
	// Deleting the "directory" c/d is a no-op, never a removal of c/d/e.
	if err := s.Delete(ctx, "c/d"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Head(ctx, "c/d/e"); err != nil {
		t.Fatalf("Head(c/d/e) after Delete(c/d): %v", err)
	}
}
