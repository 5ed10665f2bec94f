package audit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// FileAnchor appends signed heads to a local file opened O_APPEND and
// fsynced after every head (the trial default). It is only as good as the
// host: whoever is root there can rewrite it. With appendOnly, on Linux,
// when the gateway runs as root (CAP_LINUX_IMMUTABLE), the file is also
// marked append-only (chattr +a, FS_APPEND_FL): then even root must clear
// the flag first, a deliberate step, and the data directory cannot be
// removed until it does. The real protection is the auditor's copy
// (mediaseal audit anchors export) or the S3 object-lock anchor.
type FileAnchor struct {
	path       string
	appendOnly bool
	mu         sync.Mutex
}

var _ Anchor = (*FileAnchor)(nil)

// NewFileAnchor returns an anchor appending to path (created 0600 on the
// first publish); appendOnly also sets FS_APPEND_FL where it can.
func NewFileAnchor(path string, appendOnly bool) *FileAnchor {
	return &FileAnchor{path: path, appendOnly: appendOnly}
}

// Publish appends head and fsyncs.
func (a *FileAnchor) Publish(_ context.Context, head store.AuditCheckpoint) error {
	line, err := EncodeHead(head)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	f, err := os.OpenFile(a.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit anchor %s: %w", a.path, err)
	}
	if a.appendOnly {
		setAppendOnly(f) // best effort: needs CAP_LINUX_IMMUTABLE
	}
	if _, err = f.Write(append(line, '\n')); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit anchor %s: head %d: %w", a.path, head.Seq, err)
	}
	return nil
}

// Heads reads every head in the file (none when it does not exist yet).
func (a *FileAnchor) Heads(_ context.Context) ([]store.AuditCheckpoint, error) {
	b, err := os.ReadFile(a.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit anchor %s: %w", a.path, err)
	}
	hs, err := DecodeHeads(b)
	if err != nil {
		return nil, fmt.Errorf("audit anchor %s: %w", a.path, err)
	}
	return hs, nil
}

func (a *FileAnchor) String() string { return "file:" + a.path }
