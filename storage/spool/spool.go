// Package spool is the durable local spool: every sealed chunk of a
// recording is appended and fsynced to a local file (ciphertext only) before
// it counts as durable; finished files wait there until the uploader has
// confirmed them in object storage.
//
// A file named <id>.seal is still being written (or was, when the process
// died: crash recovery closes it); <id>.sealed is complete and awaits
// upload; <id>.recovered was closed by crash recovery and awaits upload.
package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mediaseal/mediaseal/storage"
)

const (
	openExt      = ".seal"
	sealedExt    = ".sealed"
	recoveredExt = ".recovered"
)

// Entry states.
const (
	StateOpen      = storage.SpoolOpen      // being written, or orphaned by a crash
	StateComplete  = storage.SpoolComplete  // closed with a final chunk
	StateRecovered = storage.SpoolRecovered // closed by crash recovery
)

var _ storage.Spool = (*Spool)(nil)

// ErrFull means the spool has reached its size limit: new recordings are
// refused until the backlog drains.
var ErrFull = storage.ErrSpoolFull

var idRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// Spool is a directory of recording files.
type Spool struct {
	dir      string
	maxBytes int64
	used     atomic.Int64
	commit   *committer
	// lastFail is the last failed write, nil once a write succeeds.
	lastFail atomic.Pointer[writeFailure]
	failures atomic.Int64
}

// Option configures a spool.
type Option func(*Spool)

// CommitPerFile makes every append sync its own file instead of sharing a
// commit of the whole filesystem with concurrent appends: for a spool on a
// filesystem that other busy writers share (syncfs would write their dirty
// data too).
func CommitPerFile() Option { return func(s *Spool) { s.commit.perFile = true } }

// CommitWrapper runs every commit through wrap, which must call commit
// once and return its error: for instrumentation, and for tests that hold
// a commit open to see what waits on it.
func CommitWrapper(wrap func(commit func() error) error) Option {
	return func(s *Spool) {
		inner := s.commit.sync
		s.commit.sync = func(dir string, f *os.File) error { return wrap(func() error { return inner(dir, f) }) }
	}
}

// Open opens (creating with 0700) the spool at dir, limited to maxBytes.
func Open(dir string, maxBytes int64, opts ...Option) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &Spool{dir: dir, maxBytes: maxBytes, commit: newCommitter(dir)}
	for _, o := range opts {
		o(s)
	}
	ents, err := s.Entries()
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		s.used.Add(e.Size)
	}
	return s, nil
}

// Dir returns the spool directory.
func (s *Spool) Dir() string { return s.dir }

// Used returns the bytes currently held.
func (s *Spool) Used() int64 { return s.used.Load() }

// Full reports whether the spool is at its limit.
func (s *Spool) Full() bool { return s.used.Load() >= s.maxBytes }

// Entry is one file in the spool.
type Entry = storage.SpoolEntry

// Entries lists spooled files, oldest first.
func (s *Spool) Entries() ([]Entry, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	var out []Entry
	for _, de := range des {
		name := de.Name()
		var e Entry
		switch {
		case strings.HasSuffix(name, sealedExt):
			e.ID, e.State = strings.TrimSuffix(name, sealedExt), StateComplete
		case strings.HasSuffix(name, recoveredExt):
			e.ID, e.State = strings.TrimSuffix(name, recoveredExt), StateRecovered
		case strings.HasSuffix(name, openExt):
			e.ID, e.State = strings.TrimSuffix(name, openExt), StateOpen
		default:
			continue
		}
		info, err := de.Info()
		if err != nil {
			continue // removed meanwhile
		}
		e.Path, e.Size, e.ModTime = filepath.Join(s.dir, name), info.Size(), info.ModTime()
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].ModTime.Equal(out[j].ModTime) {
			return out[i].ModTime.Before(out[j].ModTime)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Create starts a new recording file. It fails with ErrFull when the spool
// is at its limit.
func (s *Spool) Create(id string) (storage.SpoolFile, error) { return s.create(id) }

func (s *Spool) create(id string) (*File, error) {
	if !idRe.MatchString(id) {
		return nil, fmt.Errorf("spool: invalid id %q", id)
	}
	if s.Full() {
		return nil, fmt.Errorf("%w: %d of %d bytes used", ErrFull, s.used.Load(), s.maxBytes)
	}
	p := filepath.Join(s.dir, id+openExt)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &File{s: s, f: f, id: id}, nil
}

// markClosed renames an open file to its closed state.
func (s *Spool) markClosed(id, ext string) error {
	if err := os.Rename(filepath.Join(s.dir, id+openExt), filepath.Join(s.dir, id+ext)); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return syncDir(s.dir)
}

// MarkRecovered renames an open file closed by crash recovery.
func (s *Spool) MarkRecovered(id string) error { return s.markClosed(id, recoveredExt) }

// Remove deletes a closed file once storage has confirmed it.
func (s *Spool) Remove(e Entry) error {
	if e.State == StateOpen {
		return fmt.Errorf("spool: %s is still open", e.ID)
	}
	if err := os.Remove(e.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	} else if err == nil {
		s.used.Add(-e.Size)
	}
	return syncDir(s.dir)
}

// Find returns the entry of a recording still in the spool.
func (s *Spool) Find(id string) (Entry, bool) {
	for _, ext := range []struct{ ext, state string }{{sealedExt, StateComplete}, {recoveredExt, StateRecovered}, {openExt, StateOpen}} {
		p := filepath.Join(s.dir, id+ext.ext)
		if info, err := os.Stat(p); err == nil {
			return Entry{ID: id, Path: p, Size: info.Size(), ModTime: info.ModTime(), State: ext.state}, true
		}
	}
	return Entry{}, false
}

// OpenPath returns the path of a file still being written.
func (s *Spool) OpenPath(id string) string { return filepath.Join(s.dir, id+openExt) }

// File is a recording being spooled.
type File struct {
	s  *Spool
	id string

	mu     sync.Mutex
	f      *os.File
	size   int64
	closed bool
}

// ID returns the recording id.
func (f *File) ID() string { return f.id }

// Size returns the bytes made durable so far.
func (f *File) Size() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.size
}

// GroupCommit reports whether appends share commits of the whole
// filesystem (syncfs) rather than each syncing its own file: an append
// then spends its wait on a condition variable, not in a system call.
func (s *Spool) GroupCommit() bool { return !s.commit.perFile }

// Commits returns how many durability commits (syncfs, or fsync where
// each file syncs alone) the spool has made.
func (s *Spool) Commits() int64 { return s.commit.commits.Load() }

// Append writes b and makes it durable: when it returns nil, b is on disk.
// Concurrent appends to different files share one commit (group commit).
func (f *File) Append(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("spool: %s is closed", f.id)
	}
	_, err := f.f.Write(b)
	if err == nil {
		err = f.s.commit.wait(f.f)
	}
	if err != nil {
		// Roll back a partial write so that a retry of the same bytes
		// cannot leave a torn chunk in the middle of the file.
		if terr := f.f.Truncate(f.size); terr != nil {
			err = errors.Join(err, terr)
		}
		err = fmt.Errorf("spool: append %s: %w", f.id, err)
		f.s.noteWrite(err)
		return err
	}
	f.s.noteWrite(nil)
	f.size += int64(len(b))
	f.s.used.Add(int64(len(b)))
	return nil
}

// Seal closes the file and marks it complete, ready for upload.
func (f *File) Seal() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	if err := f.f.Close(); err != nil {
		return fmt.Errorf("spool: close %s: %w", f.id, err)
	}
	return f.s.markClosed(f.id, sealedExt)
}

// Abandon closes the file without sealing it (recovery will close it on
// the next start). Used when the process stops without finishing.
func (f *File) Abandon() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	return f.f.Close()
}

// Discard closes and deletes the file (a fail-closed or aborted recording).
func (f *File) Discard() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		f.f.Close()
	}
	f.s.used.Add(-f.size)
	err := os.Remove(f.s.OpenPath(f.id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
