package uploader

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"time"

	"github.com/mediaseal/mediaseal/storage"
)

var (
	// errMissing: the spool file is gone; nothing can be uploaded.
	errMissing = errors.New("spool file missing")
	// errDone: the object is confirmed but the Done callback failed.
	errDone = errors.New("done callback failed")
)

// attempt uploads e (unless already confirmed), verifies it and calls Done.
func (u *Uploader) attempt(ctx context.Context, e *entry) error {
	e.attempts++
	ctx, cancel := context.WithTimeout(ctx, u.attemptTimeout(e))
	defer cancel()
	if !e.uploaded {
		start := time.Now()
		if err := u.upload(ctx, e); err != nil {
			return err
		}
		e.uploaded = true
		u.cfg.Metrics.observe(time.Since(start).Seconds())
	}
	if err := u.cfg.Done(ctx, e.Item); err != nil {
		return fmt.Errorf("%w: %s: %w", errDone, e.Key, err)
	}
	return nil
}

// attemptTimeout is the deadline of one attempt for e: long enough to
// move the file at MinRate, short enough that a hung store is counted as
// down after seconds, never more than AttemptTimeout.
func (u *Uploader) attemptTimeout(e *entry) time.Duration {
	size := e.size
	if e.sha256 == "" { // not hashed yet: the file's size
		if fi, err := os.Stat(e.Path); err == nil {
			size = fi.Size()
		}
	}
	d := u.cfg.AttemptFloor + time.Duration(float64(size)/float64(u.cfg.MinRate)*float64(time.Second))
	return min(d, u.cfg.AttemptTimeout)
}

// upload puts the file and reads the object's size and SHA-256 back.
func (u *Uploader) upload(ctx context.Context, e *entry) error {
	f, err := os.Open(e.Path)
	if errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("%w: %s", errMissing, e.Path)
	}
	if err != nil {
		return fmt.Errorf("uploader: %s: %w", e.Key, err)
	}
	defer f.Close()
	if e.sha256 == "" {
		// Spool files are immutable once finished: hash once, reuse on retries.
		h := sha256.New()
		n, err := io.Copy(h, f)
		if err != nil {
			return fmt.Errorf("uploader: hash %s: %w", e.Path, err)
		}
		u.mu.Lock() // e.size feeds the backlog gauge
		e.size, e.sha256 = n, hex.EncodeToString(h.Sum(nil))
		u.changedLocked()
		u.mu.Unlock()
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("uploader: %s: %w", e.Path, err)
		}
	}
	opts := e.Options
	opts.SHA256, opts.Size = e.sha256, e.size
	if _, err := u.cfg.Store.Put(ctx, e.Key, f, opts); err != nil {
		return err
	}
	return u.verify(ctx, e)
}

// verify checks the stored object against the file: Head's SHA-256 when
// the backend reports one, otherwise a full read-back.
func (u *Uploader) verify(ctx context.Context, e *entry) error {
	info, err := u.cfg.Store.Head(ctx, e.Key)
	if err != nil {
		return err
	}
	got := info.SHA256
	if got == "" {
		rc, err := u.cfg.Store.Get(ctx, e.Key, 0, -1)
		if err != nil {
			return err
		}
		defer rc.Close()
		h := sha256.New()
		if _, err := io.Copy(h, rc); err != nil {
			return err
		}
		got = hex.EncodeToString(h.Sum(nil))
	}
	if info.Size != e.size || got != e.sha256 {
		return fmt.Errorf("%w: %s: stored %d bytes sha256 %s, file has %d bytes sha256 %s: %w",
			ErrVerify, e.Key, info.Size, got, e.size, e.sha256, storage.ErrChecksum)
	}
	return nil
}
