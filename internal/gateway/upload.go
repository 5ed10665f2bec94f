package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/seal"
	"github.com/mediaseal/mediaseal/storage/spool"
	"github.com/mediaseal/mediaseal/storage/uploader"
)

// enqueueUpload hands a closed spool file to the uploader.
func (g *Gateway) enqueueUpload(e spool.Entry) error {
	f, err := os.Open(e.Path)
	if err != nil {
		return err
	}
	h, err := seal.ParseHeader(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("spool file %s is not a sealed recording: %w", e.Path, err)
	}
	g.uploads.Enqueue(uploader.Item{
		Key:    storage.RecordingKey(h.Context.OrgID, time.Unix(0, h.Context.StartedAt), e.ID),
		Path:   e.Path,
		Queued: e.ModTime,
	})
	return nil
}

// enqueueSpooled queues every closed file in the spool (at start: what a
// previous process or an outage left behind).
func (g *Gateway) enqueueSpooled() {
	ents, err := g.spool.Entries()
	if err != nil {
		g.log.Error("spool scan", zap.Error(err))
		return
	}
	for _, e := range ents {
		if e.State == spool.StateOpen {
			continue
		}
		if err := g.enqueueUpload(e); err != nil {
			g.log.Error("cannot queue spooled recording", zap.String("recording", e.ID), zap.Error(err))
		}
	}
}

// uploaded is the uploader's Done: the object is confirmed in storage (size
// and SHA-256 read back), so the index is finished and the spool copy goes.
func (g *Gateway) uploaded(ctx context.Context, it uploader.Item) error {
	id := strings.TrimSuffix(filepath.Base(it.Path), filepath.Ext(it.Path))
	e, ok := g.spool.Find(id)
	if !ok {
		return nil // already done by an earlier call
	}
	rec, err := g.index.GetRecording(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// The index's size and SHA-256 are what exports hold the stored object
	// to, so they come from the spool file this gateway wrote, not from
	// the store's metadata, which its holder can rewrite (the uploader has
	// already checked that the stored object matches the file).
	sum, size, err := hashFile(e.Path)
	if err != nil {
		return err
	}
	if err := g.index.FinishRecording(ctx, id, e.State, rec.Chunks, size, sum, it.Key); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := g.spool.Remove(e); err != nil {
		return err
	}
	g.log.Info("recording stored", zap.String("recording", id), zap.String("key", it.Key),
		zap.Int64("bytes", e.Size), zap.String("status", e.State))
	return nil
}

// hashFile returns the hex SHA-256 and the size of the file at path.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
