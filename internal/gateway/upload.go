package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/internal/store"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/seal"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// uploader moves closed spool files to object storage, oldest first, and
// removes the spool copy only after the stored object's checksum matches.
// When storage is down it backs off exponentially with jitter; the spool
// keeps everything meanwhile.
type uploader struct {
	spool   *spool.Spool
	objects storage.Store
	index   *store.SQL
	log     *zap.Logger
	metrics *metrics
	wake    chan struct{}

	minBackoff, maxBackoff time.Duration
}

// run uploads until ctx is done.
func (u *uploader) run(ctx context.Context) {
	backoff := u.minBackoff
	for {
		err := u.drain(ctx)
		wait := 2 * time.Second // idle poll; woken early by finished sessions
		if err != nil {
			u.metrics.uploadErrors.Inc()
			u.log.Warn("upload failed; will retry", zap.Error(err), zap.Duration("backoff", backoff))
			wait = backoff/2 + rand.N(backoff/2+1)
			backoff = min(backoff*2, u.maxBackoff)
		} else {
			backoff = u.minBackoff
		}
		select {
		case <-ctx.Done():
			return
		case <-u.wake:
		case <-time.After(wait):
		}
	}
}

// drain uploads every closed spool file; it stops at the first failure so
// that order is kept and backoff applies.
func (u *uploader) drain(ctx context.Context) error {
	ents, err := u.spool.Entries()
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.State == spool.StateOpen {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil
		}
		if err := u.upload(ctx, e); err != nil {
			return fmt.Errorf("recording %s: %w", e.ID, err)
		}
	}
	u.metrics.spoolBytes.Set(float64(u.spool.Used()))
	return nil
}

func (u *uploader) upload(ctx context.Context, e spool.Entry) error {
	start := time.Now()
	f, err := os.Open(e.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	h, err := seal.ParseHeader(f)
	if err != nil {
		return fmt.Errorf("spool file is not a sealed recording: %w", err)
	}
	key := storage.RecordingKey(h.Context.OrgID, time.Unix(0, h.Context.StartedAt), e.ID)
	sum := sha256.New()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(sum, f); err != nil {
		return err
	}
	digest := hex.EncodeToString(sum.Sum(nil))
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := u.objects.Put(ctx, key, f, storage.PutOptions{SHA256: digest, Size: e.Size}); err != nil {
		return err
	}
	info, err := u.objects.Head(ctx, key)
	if err != nil {
		return err
	}
	if info.Size != e.Size || (info.SHA256 != "" && info.SHA256 != digest) {
		return fmt.Errorf("%w: stored %d bytes sha256 %s, spooled %d bytes sha256 %s", storage.ErrChecksum, info.Size, info.SHA256, e.Size, digest)
	}
	rec, err := u.index.GetRecording(ctx, e.ID)
	chunks := rec.Chunks
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := u.index.FinishRecording(ctx, e.ID, e.State, chunks, e.Size, digest, key); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := u.spool.Remove(e); err != nil {
		return err
	}
	u.metrics.uploadLatency.Observe(time.Since(start).Seconds())
	u.log.Info("recording stored", zap.String("recording", e.ID), zap.String("key", key), zap.Int64("bytes", e.Size), zap.String("status", e.State))
	return nil
}
