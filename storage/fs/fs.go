// Package fs is the local-filesystem object store, the embedded default:
// each object is a file under a root directory, written atomically
// (temporary file, fsync, rename, directory fsync) with mode 0600.
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
	"sort"
	"strings"

	"github.com/mediaseal/mediaseal/storage"
)

// Store keeps objects under a root directory.
type Store struct {
	root string
}

var _ storage.Store = (*Store)(nil)

// New returns a Store rooted at dir, creating it (0700) if needed.
func New(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("fs store: %w", err)
	}
	return &Store{root: dir}, nil
}

func (s *Store) path(key string) (string, error) {
	if err := storage.ValidateKey(key); err != nil {
		return "", err
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

// Put implements storage.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, opts storage.PutOptions) (storage.ObjectInfo, error) {
	p, err := s.path(key)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("%w: %v", storage.ErrUnavailable, err)
	}
	tmp, err := os.CreateTemp(dir, ".put-*")
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("%w: %v", storage.ErrUnavailable, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs store: put %s: %w", key, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if opts.SHA256 != "" && !strings.EqualFold(opts.SHA256, sum) {
		return storage.ObjectInfo{}, fmt.Errorf("%w: %s: sent %s, stored %s", storage.ErrChecksum, key, opts.SHA256, sum)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs store: put %s: %w", key, err)
	}
	if err := syncDir(dir); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs store: put %s: %w", key, err)
	}
	st, err := os.Stat(p)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs store: put %s: %w", key, err)
	}
	return storage.ObjectInfo{Key: key, Size: n, Modified: st.ModTime(), SHA256: sum}, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

type ctxReader struct {
	ctx context.Context //nolint:containedctx // lives for one Put
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Get implements storage.Store.
func (s *Store) Get(_ context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", storage.ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", storage.ErrUnavailable, err)
	}
	if offset < 0 {
		f.Close()
		return nil, fmt.Errorf("fs store: negative offset %d", offset)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	if length < 0 {
		return f, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, length), f}, nil
}

// Open returns the object as a file, for readers that want io.ReaderAt.
func (s *Store) Open(key string) (*os.File, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", storage.ErrNotFound, key)
	}
	return f, err
}

// Head implements storage.Store.
func (s *Store) Head(_ context.Context, key string) (storage.ObjectInfo, error) {
	p, err := s.path(key)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	st, err := os.Stat(p)
	if errors.Is(err, iofs.ErrNotExist) {
		return storage.ObjectInfo{}, fmt.Errorf("%w: %s", storage.ErrNotFound, key)
	}
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("%w: %v", storage.ErrUnavailable, err)
	}
	f, err := os.Open(p)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("%w: %v", storage.ErrUnavailable, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("%w: %v", storage.ErrUnavailable, err)
	}
	return storage.ObjectInfo{Key: key, Size: st.Size(), Modified: st.ModTime(), SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// List implements storage.Store.
func (s *Store) List(_ context.Context, prefix string) ([]storage.ObjectInfo, error) {
	var out []storage.ObjectInfo
	err := filepath.WalkDir(s.root, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".put-") {
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
		if err != nil {
			return err
		}
		out = append(out, storage.ObjectInfo{Key: key, Size: st.Size(), Modified: st.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", storage.ErrUnavailable, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Delete implements storage.Store.
func (s *Store) Delete(_ context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("%w: %v", storage.ErrUnavailable, err)
	}
	return nil
}
