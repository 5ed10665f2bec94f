package gateway

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/seal"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// indexer keeps the recordings index in step with sessions. Progress
// updates are coalesced and written by one goroutine so that thousands of
// sessions flushing every second cost one short transaction per interval
// each, off the media path.
type indexer struct {
	st        *store.SQL
	log       *zap.Logger
	gatewayID string
	org       string
	metrics   *metrics
	spool     *spool.Spool
	finished  func(spool.Entry) // queues a closed recording for upload
	// unwritten recovers in place a recording whose final chunk could not
	// be written (media.StatusWriteFailed); nil: the next start does.
	unwritten func(id string)

	mu       sync.Mutex
	progress map[string]int64 // recording id → durable bytes, pending write
}

var _ media.Observer = (*indexer)(nil)

func (ix *indexer) bg() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// SessionStarted implements media.Observer.
func (ix *indexer) SessionStarted(s *media.Session) {
	ix.metrics.sessionsTotal.WithLabelValues(boolLabel(s.Recorded())).Inc()
	if !s.Recorded() {
		return
	}
	p := s.Decision.Policy
	ctx, cancel := ix.bg()
	defer cancel()
	err := ix.st.CreateRecording(ctx, store.Recording{
		ID: s.RecordingID, SessionID: s.ID, OrgID: ix.org, CallID: s.Request.CallID, QueueID: s.Request.QueueID,
		Direction: s.Request.Direction, PolicyID: p.ID, PolicyVersion: p.Version, Status: store.RecordingActive,
		StartedAt: s.StartedAt, GatewayID: ix.gatewayID,
		ObjectKey: storage.RecordingKey(ix.org, s.StartedAt, s.RecordingID),
	})
	if err != nil {
		ix.log.Error("index: create recording", zap.String("recording", s.RecordingID), zap.Error(err))
	}
}

// KeyReady implements media.Observer.
func (ix *indexer) KeyReady(s *media.Session, env seal.Envelope, reason string) {
	if env.Key.Fallback {
		ix.metrics.fallbacks.Inc()
		ix.log.Warn("recording under platform key (fallback)", zap.String("recording", s.RecordingID), zap.String("reason", reason))
	}
	ctx, cancel := ix.bg()
	defer cancel()
	if err := ix.st.SetRecordingKey(ctx, s.RecordingID, env.Key.Provider, env.Key.KeyID, env.Key.KeyVersion, env.Key.Fallback, env.WrappedDEK, s.KMSContext()); err != nil {
		ix.log.Error("index: set recording key", zap.String("recording", s.RecordingID), zap.Error(err))
	}
}

// KeyFailed implements media.Observer.
func (ix *indexer) KeyFailed(s *media.Session, err error) {
	ix.metrics.keyFailures.Inc()
	ctx, cancel := ix.bg()
	defer cancel()
	if ferr := ix.st.FinishRecording(ctx, s.RecordingID, store.RecordingFailed, 0, 0, "", ""); ferr != nil {
		ix.log.Error("index: fail recording", zap.String("recording", s.RecordingID), zap.Error(ferr))
	}
}

// Durable implements media.Observer.
func (ix *indexer) Durable(s *media.Session, bytes int64) {
	ix.mu.Lock()
	ix.progress[s.RecordingID] = bytes
	ix.mu.Unlock()
}

// SessionEnded implements media.Observer.
func (ix *indexer) SessionEnded(s *media.Session, sum media.Summary) {
	ix.mu.Lock()
	delete(ix.progress, s.RecordingID)
	ix.mu.Unlock()
	ix.metrics.observeEnded(sum)
	if sum.Status == "COMPLETE" {
		ctx, cancel := ix.bg()
		defer cancel()
		_ = ix.st.UpdateRecordingProgress(ctx, s.RecordingID, sum.Chunks, sum.SealedBytes, time.Now())
		if e, ok := ix.spool.Find(s.RecordingID); ok && e.State != spool.StateOpen {
			ix.finished(e)
		}
	}
	if sum.Status == media.StatusWriteFailed && ix.unwritten != nil {
		ix.unwritten(s.RecordingID)
	}
}

// run writes coalesced progress every interval until ctx is done.
func (ix *indexer) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ix.mu.Lock()
		batch := ix.progress
		ix.progress = make(map[string]int64, len(batch))
		ix.mu.Unlock()
		// While recording, the index counts durable bytes; the exact chunk
		// count is written when the session ends. One transaction for all.
		now := time.Now()
		ps := make([]store.Progress, 0, len(batch))
		for id, b := range batch {
			ps = append(ps, store.Progress{ID: id, Bytes: b, DurableAt: now})
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := ix.st.UpdateRecordingsProgress(wctx, ps); err != nil {
			ix.log.Warn("index: progress batch", zap.Int("recordings", len(ps)), zap.Error(err))
		}
		cancel()
	}
}

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
