package spool

import (
	"context"
	"errors"
	"fmt"
	"github.com/mediaseal/mediaseal/storage"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrUnwritable is storage.ErrSpoolUnwritable.
var ErrUnwritable = storage.ErrSpoolUnwritable

// probeSize is large enough that a filesystem with no free block refuses
// it (a few bytes can fit in a partly used page).
const probeSize = 4096

// writeFailure is the last failed write.
type writeFailure struct {
	err error
	at  time.Time
}

// noteWrite records the outcome of a write to the spool: the last outcome
// is whether the spool can be written.
func (s *Spool) noteWrite(err error) {
	if err == nil {
		s.lastFail.Store(nil)
		return
	}
	s.failures.Add(1)
	s.lastFail.Store(&writeFailure{err: err, at: time.Now()})
}

// WriteErr returns nil while the spool's last write succeeded, else an
// error wrapping ErrUnwritable and the write's error.
func (s *Spool) WriteErr() error {
	f := s.lastFail.Load()
	if f == nil {
		return nil
	}
	return fmt.Errorf("%w since %s: %w", ErrUnwritable, f.at.UTC().Format(time.RFC3339), f.err)
}

// WriteFailures counts failed writes (appends and probes) since Open.
func (s *Spool) WriteFailures() int64 { return s.failures.Load() }

// Probe writes, syncs and removes a small file in the spool directory and
// records the outcome: a quiet spool (no call flushing) still learns
// that its disk filled up or came back.
func (s *Spool) Probe() error {
	err := s.probe()
	s.noteWrite(err)
	return err
}

func (s *Spool) probe() error {
	p := filepath.Join(s.dir, ".probe")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("spool: probe: %w", err)
	}
	_, err = f.Write(make([]byte, probeSize))
	if err == nil {
		err = f.Sync()
	}
	err = errors.Join(err, f.Close(), os.Remove(p))
	if err != nil {
		return fmt.Errorf("spool: probe: %w", err)
	}
	return nil
}

// Watch probes the spool every interval until ctx is done.
func (s *Spool) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		_ = s.Probe()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// WriteProblem is WriteErr for an unauthenticated probe: "" while the
// spool can be written, else "unwritable: " and the system error, with no
// path or recording id.
func (s *Spool) WriteProblem() string {
	f := s.lastFail.Load()
	if f == nil {
		return ""
	}
	var errno syscall.Errno
	if errors.As(f.err, &errno) {
		return "unwritable: " + errno.Error()
	}
	return "unwritable"
}

// Ready is the spool's answer to /readyz: "ok" while it has room and its
// last write succeeded, else why not.
func (s *Spool) Ready() (string, bool) {
	if s.Full() {
		return "full", false
	}
	if msg := s.WriteProblem(); msg != "" {
		return msg, false
	}
	return "ok", true
}
