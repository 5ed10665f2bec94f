package audit

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/mediaseal/mediaseal/internal/store"
)

// DefaultAnchorRetry is how soon a head that could not be anchored is
// published again.
const DefaultAnchorRetry = 5 * time.Second

// anchorState is what the log knows of its anchor. pending and lastErr
// are guarded by Log.mu; the counters are read by metrics at any time.
type anchorState struct {
	// pending is the newest signed head not yet anchored (nil when every
	// head made is anchored). A newer head replaces it: anchoring the
	// newer one commits to everything the older one did.
	pending *store.AuditCheckpoint
	lastErr error

	published atomic.Int64 // heads anchored
	failures  atomic.Int64 // failed attempts
	unhealthy atomic.Bool  // a head is waiting
	anchored  atomic.Int64 // seq of the newest head anchored
}

// publishLocked anchors c (l.mu held); on failure c becomes the pending
// head and the error wraps ErrAnchor.
func (l *Log) publishLocked(ctx context.Context, c store.AuditCheckpoint) error {
	if l.opts.Anchor == nil {
		return nil
	}
	l.anchor.pending = &c
	return l.retryAnchorLocked(ctx)
}

// retryAnchorLocked publishes the pending head, if any (l.mu held).
func (l *Log) retryAnchorLocked(ctx context.Context) error {
	a := &l.anchor
	if a.pending == nil || l.opts.Anchor == nil {
		return nil
	}
	c := *a.pending
	if err := l.opts.Anchor.Publish(ctx, c); err != nil {
		a.failures.Add(1)
		a.unhealthy.Store(true)
		a.lastErr = fmt.Errorf("%w: head %d to %s: %w", ErrAnchor, c.Seq, l.opts.Anchor, err)
		if l.opts.OnAnchorError != nil {
			l.opts.OnAnchorError(c, err)
		}
		return a.lastErr
	}
	a.pending, a.lastErr = nil, nil
	a.published.Add(1)
	a.anchored.Store(c.Seq)
	a.unhealthy.Store(false)
	return nil
}

// AnchorErr is nil when every signed head has been anchored, and
// otherwise says which head is waiting and why (the gateway reports
// itself not ready meanwhile).
func (l *Log) AnchorErr() error {
	if !l.anchor.unhealthy.Load() {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.anchor.lastErr
}

// AnchorStats are the anchoring counters for metrics.
type AnchorStats struct {
	Published, Failures, AnchoredSeq int64
	Pending                          bool
}

// AnchorStats returns the anchoring counters.
func (l *Log) AnchorStats() AnchorStats {
	a := &l.anchor
	return AnchorStats{Published: a.published.Load(), Failures: a.failures.Load(), AnchoredSeq: a.anchored.Load(), Pending: a.unhealthy.Load()}
}
