package fs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/mediaseal/mediaseal/storage"
)

// openObject opens the regular file of key, mapping absence (including a
// file or a directory where a parent or the object should be) to
// ErrNotFound.
func (s *Store) openObject(ctx context.Context, op, key string) (*os.File, iofs.FileInfo, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("fs store: %s %s: %w", op, key, err)
	}
	f, err := os.Open(p)
	if err != nil {
		if isAbsent(err) {
			return nil, nil, fmt.Errorf("%w: %s", storage.ErrNotFound, key)
		}
		return nil, nil, fmt.Errorf("fs store: %s %s: %w", op, key, classify(err))
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("fs store: %s %s: %w", op, key, classify(err))
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%w: %s", storage.ErrNotFound, key)
	}
	return f, st, nil
}

func isAbsent(err error) bool {
	return errors.Is(err, iofs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// Get implements storage.Store.
func (s *Store) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := storage.ValidateKey(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("%w: offset %d", storage.ErrInvalidRange, offset)
	}
	f, st, err := s.openObject(ctx, "get", key)
	if err != nil {
		return nil, err
	}
	// An offset past the end reads nothing, like the file itself.
	offset = min(offset, st.Size())
	if length < 0 {
		length = st.Size() - offset
	}
	return &objectReader{SectionReader: io.NewSectionReader(f, offset, length), f: f}, nil
}

type objectReader struct {
	*io.SectionReader
	f *os.File
}

func (r *objectReader) Close() error { return r.f.Close() }

// Open returns the object as a file, for readers that want io.ReaderAt.
func (s *Store) Open(key string) (*os.File, error) {
	f, _, err := s.openObject(context.Background(), "open", key)
	return f, err
}

// Head implements storage.Store. It reads the object back to compute its
// SHA-256, so a Head after a Put verifies what is on disk.
func (s *Store) Head(ctx context.Context, key string) (storage.ObjectInfo, error) {
	f, st, err := s.openObject(ctx, "head", key)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	defer f.Close()
	h := sha256.New()
	src := &ctxReader{ctx: ctx, r: f}
	if _, err := io.Copy(h, src); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs store: head %s: %w", key, classify(err))
	}
	return storage.ObjectInfo{Key: key, Size: st.Size(), Modified: st.ModTime(), SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// List implements storage.Store. It walks only the directory the prefix
// names, and sorts by key since a directory walk does not give key order
// ("a-b" sorts before "a/b").
func (s *Store) List(ctx context.Context, prefix string) ([]storage.ObjectInfo, error) {
	if err := storage.ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fs store: list %q: %w", prefix, err)
	}
	start := s.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = filepath.Join(s.root, filepath.FromSlash(prefix[:i]))
	}
	var out []storage.ObjectInfo
	err := filepath.WalkDir(start, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			if p == start && isAbsent(err) {
				return filepath.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		st, err := d.Info()
		if isAbsent(err) {
			return nil // deleted while we walked
		}
		if err != nil {
			return err
		}
		out = append(out, storage.ObjectInfo{Key: key, Size: st.Size(), Modified: st.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fs store: list %q: %w", prefix, classify(err))
	}
	slices.SortFunc(out, func(a, b storage.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Delete implements storage.Store. Deleting a missing object succeeds;
// parent directories left empty are removed.
func (s *Store) Delete(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fs store: delete %s: %w", key, err)
	}
	st, err := os.Lstat(p)
	if isAbsent(err) || (err == nil && st.IsDir()) {
		return nil // no object at key (a directory holds other objects)
	}
	if err != nil {
		return fmt.Errorf("fs store: delete %s: %w", key, classify(err))
	}
	if err := os.Remove(p); err != nil && !isAbsent(err) {
		return fmt.Errorf("fs store: delete %s: %w", key, classify(err))
	}
	dir := filepath.Dir(p)
	if err := syncDir(dir); err != nil && !isAbsent(err) {
		return fmt.Errorf("fs store: delete %s: %w", key, classify(err))
	}
	s.prune(dir)
	return nil
}

// prune removes dir and its parents below the root while they are empty.
func (s *Store) prune(dir string) {
	for dir != s.root && strings.HasPrefix(dir, s.root+string(filepath.Separator)) {
		if os.Remove(dir) != nil { // not empty, or already gone
			return
		}
		dir = filepath.Dir(dir)
		_ = syncDir(dir)
	}
}
