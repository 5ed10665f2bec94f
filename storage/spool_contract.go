package storage

import (
	"context"
	"errors"
	"time"
)

// Spool states of a recording file.
const (
	SpoolOpen      = "OPEN"      // being written, or orphaned by a crash
	SpoolComplete  = "COMPLETE"  // closed with a final chunk
	SpoolRecovered = "RECOVERED" // closed by crash recovery
)

// SpoolEntry is one recording file in the spool.
type SpoolEntry struct {
	ID      string
	Path    string
	Size    int64
	ModTime time.Time
	// State is SpoolOpen, SpoolComplete or SpoolRecovered.
	State string
}

// SpoolFile is one recording being spooled: every Append is durable when
// it returns nil, and a failed Append leaves the file as it was.
type SpoolFile interface {
	Append(b []byte) error
	// Seal closes the file with its final chunk written: ready for upload.
	Seal() error
	// Discard closes and deletes the file (fail closed).
	Discard() error
	// Abandon closes the file without sealing it: recovery closes it.
	Abandon() error
}

// Spool is the contract of the durable local spool (storage/spool): the
// recording life cycle sees it through this, so that only the assembly
// chooses where a spool lives.
type Spool interface {
	Create(id string) (SpoolFile, error)
	Entries() ([]SpoolEntry, error)
	Find(id string) (SpoolEntry, bool)
	Remove(e SpoolEntry) error
	MarkRecovered(id string) error
	// Full reports whether the spool is at its size limit; Used is what it holds.
	Full() bool
	Used() int64
	// WriteErr is nil while the last write (append or probe) succeeded.
	WriteErr() error
	WriteFailures() int64
	Commits() int64
	// GroupCommit reports whether appends share commits of the filesystem.
	GroupCommit() bool
	// Watch probes the spool's writability every interval until ctx ends.
	Watch(ctx context.Context, every time.Duration)
}

// ErrSpoolFull means the spool has reached its size limit: new recordings
// are refused until the backlog drains.
var ErrSpoolFull = errors.New("spool: full")

// ErrSpoolUnwritable means the spool's last write (an append or a probe)
// failed: a full or failing disk. New recordings are refused until a
// write succeeds again.
var ErrSpoolUnwritable = errors.New("spool: not writable")
