package gateway

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/storage/seal"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// recover closes every spool file a dead process left open: it verifies
// the chunks that made it to disk, cuts a torn tail and appends a
// recovered-final chunk, so the recording uploads as RECOVERED with
// everything up to the last flushed chunk.
func (g *Gateway) recover(ctx context.Context) error {
	ents, err := g.spool.Entries()
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.State != spool.StateOpen {
			continue
		}
		sum, err := g.recoverOne(ctx, e)
		if err != nil {
			g.log.Error("crash recovery failed; spool file kept", zap.String("recording", e.ID), zap.Error(err))
			continue
		}
		g.log.Info("recovered recording after crash", zap.String("recording", e.ID),
			zap.Int64("chunks", sum.Chunks), zap.String("status", sum.Status.String()))
	}
	return nil
}

func (g *Gateway) recoverOne(ctx context.Context, e spool.Entry) (seal.Summary, error) {
	f, err := os.OpenFile(e.Path, os.O_RDWR, 0)
	if err != nil {
		return seal.Summary{}, err
	}
	defer f.Close()
	h, err := seal.ParseHeader(f)
	if err != nil {
		return seal.Summary{}, fmt.Errorf("header: %w", err)
	}
	dek, err := g.unwrap(ctx, e.ID, h)
	if err != nil {
		return seal.Summary{}, err
	}
	defer clear(dek)
	sum, err := seal.Recover(f, dek)
	if err != nil {
		return sum, err
	}
	if err := f.Sync(); err != nil {
		return sum, err
	}
	if err := g.index.UpdateRecordingProgress(ctx, e.ID, sum.Chunks, 0, e.ModTime); err != nil {
		g.log.Warn("index: recovered progress", zap.String("recording", e.ID), zap.Error(err))
	}
	return sum, g.spool.MarkRecovered(e.ID)
}

// unwrap returns the DEK of a recording. The index's envelope supersedes
// the header's (a rewrap replaces it there without touching the object).
func (g *Gateway) unwrap(ctx context.Context, id string, h *seal.Header) ([]byte, error) {
	env := h.Envelope
	if rec, err := g.index.GetRecording(ctx, id); err == nil && len(rec.WrappedDEK) > 0 && rec.KeyVersion != "" {
		env = seal.Envelope{Key: seal.KeyRef{Provider: rec.KeyProvider, KeyID: rec.KeyID, KeyVersion: rec.KeyVersion, Fallback: rec.Fallback}, WrappedDEK: rec.WrappedDEK}
	}
	p, ok := g.providers[env.Key.Provider]
	if !ok {
		return nil, fmt.Errorf("%w: provider %q is not configured", kms.ErrNotFound, env.Key.Provider)
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.KMS.Timeout.D())
	defer cancel()
	return g.unwrapUnder(ctx, p, env, id, h) // the context: kms/recordingkey
}

// unwrittenRetry is how often recovery in place of a recording whose final
// chunk was not written waits for the spool to take writes again.
const unwrittenRetry = time.Second

// recoverUnwritten closes, in place and without a restart, the spool file
// of a recording whose final chunk could not be written in time (a full
// disk): once the spool can be written, recovery keeps the chunks that
// reached disk and adds a recovered-final chunk, and the recording
// uploads as RECOVERED instead of staying ACTIVE until the next start.
// It gives up when ctx ends (shutdown); the next start then recovers it.
func (g *Gateway) recoverUnwritten(ctx context.Context, id string) {
	log := g.log.With(zap.String("recording", id))
	for {
		if g.spool.WriteErr() == nil {
			e, ok := g.spool.Find(id)
			if !ok || e.State != spool.StateOpen {
				return // recovered or removed meanwhile
			}
			sum, err := g.recoverOne(ctx, e)
			if err == nil {
				log.Warn("recovered recording in place: its final chunk could not be written to the spool",
					zap.Int64("chunks", sum.Chunks), zap.String("status", sum.Status.String()))
				if e, ok := g.spool.Find(id); ok {
					if err := g.enqueueUpload(e); err != nil {
						log.Error("cannot queue recovered recording for upload", zap.Error(err))
					}
				}
				return
			}
			log.Warn("recovery in place failed; retrying", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			log.Warn("recording left for recovery at next start: its final chunk was not written")
			return
		case <-time.After(unwrittenRetry):
		}
	}
}
