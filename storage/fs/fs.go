// Package fs is the local-filesystem object store, the embedded default:
// each object is a file under a root directory. A Put writes a temporary
// file beside the target (mode 0600), fsyncs it, checks its SHA-256 and
// size, renames it into place and fsyncs the directory, so an object is
// either absent, the previous version or the whole new one, also after a
// crash. Directories are created 0700 and removed again when a Delete
// empties them.
//
// A filesystem cannot hold both "a/b" and "a/b/c"; such a Put fails with
// [storage.ErrInvalidKey]. Keys with a segment starting with ".put-" are
// reserved for temporary files and refused the same way.
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
	"strings"
	"syscall"

	"github.com/mediaseal/mediaseal/storage"
)

// tempPrefix starts the name of every temporary file; List skips them.
const tempPrefix = ".put-"

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
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("fs store: %w", err)
	}
	return &Store{root: abs}, nil
}

// path maps a valid key to its file.
func (s *Store) path(key string) (string, error) {
	if err := storage.ValidateKey(key); err != nil {
		return "", err
	}
	for _, seg := range strings.Split(key, "/") {
		if strings.HasPrefix(seg, tempPrefix) {
			return "", fmt.Errorf("%w: %q: segments starting with %q are reserved", storage.ErrInvalidKey, key, tempPrefix)
		}
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

// Put implements storage.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, opts storage.PutOptions) (storage.ObjectInfo, error) {
	p, err := s.path(key)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	want, err := storage.ParseSHA256(opts.SHA256)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs store: put %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs store: put %s: %w", key, err)
	}
	tmp, err := s.createTemp(key, filepath.Dir(p))
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename

	h := sha256.New()
	src := &ctxReader{ctx: ctx, r: r}
	n, err := io.Copy(io.MultiWriter(tmp, h), src)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if src.err != nil {
		// The caller's stream failed, not the store.
		return storage.ObjectInfo{}, fmt.Errorf("fs store: put %s: reading the source: %w", key, src.err)
	}
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs store: put %s: %w", key, classify(err))
	}
	got := h.Sum(nil)
	if want != nil && string(want) != string(got) {
		return storage.ObjectInfo{}, fmt.Errorf("%w: %s: sent %x, received %x", storage.ErrChecksum, key, want, got)
	}
	if opts.Size > 0 && n != opts.Size {
		return storage.ObjectInfo{}, fmt.Errorf("%w: %s: size %d sent, %d received", storage.ErrChecksum, key, opts.Size, n)
	}
	// Last chance to honour a cancellation: after the rename the object is in.
	if err := ctx.Err(); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs store: put %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		if errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOTEMPTY) {
			return storage.ObjectInfo{}, fmt.Errorf("%w: %s: a directory of other objects is in the way", storage.ErrInvalidKey, key)
		}
		return storage.ObjectInfo{}, fmt.Errorf("fs store: put %s: %w", key, classify(err))
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs store: put %s: %w", key, classify(err))
	}
	st, err := os.Stat(p)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("fs store: put %s: %w", key, classify(err))
	}
	return storage.ObjectInfo{Key: key, Size: n, Modified: st.ModTime(), SHA256: hex.EncodeToString(got)}, nil
}

// createTemp makes the parent directories (syncing each new entry) and a
// temporary file in dir. A concurrent Delete may prune a directory it has
// just made, so it tries a few times.
func (s *Store) createTemp(key, dir string) (*os.File, error) {
	var err error
	for range 3 {
		if err = s.mkdirAll(dir); err != nil {
			if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EEXIST) {
				return nil, fmt.Errorf("%w: %s: an object is in the way of its directory", storage.ErrInvalidKey, key)
			}
			return nil, fmt.Errorf("fs store: put %s: %w", key, classify(err))
		}
		var f *os.File
		f, err = os.CreateTemp(dir, tempPrefix+"*") // mode 0600
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, iofs.ErrNotExist) {
			break
		}
	}
	return nil, fmt.Errorf("fs store: put %s: %w", key, classify(err))
}

// mkdirAll creates dir and its missing parents under the root with mode
// 0700, fsyncing each parent that gained an entry.
func (s *Store) mkdirAll(dir string) error {
	st, err := os.Stat(dir)
	if err == nil {
		if !st.IsDir() {
			return &os.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
		}
		return nil
	}
	if !errors.Is(err, iofs.ErrNotExist) || dir == s.root {
		return err
	}
	parent := filepath.Dir(dir)
	if err := s.mkdirAll(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, iofs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// classify marks filesystem failures as ErrUnavailable and keeps context
// errors as they are.
func classify(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %v", storage.ErrUnavailable, err)
}

// ctxReader stops a stream when ctx ends and remembers whether an error
// came from the stream itself.
type ctxReader struct {
	ctx context.Context //nolint:containedctx // lives for one call
	r   io.Reader
	err error
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}
