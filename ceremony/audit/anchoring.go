package audit

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
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
	// cut is set, for good, when the chain's head went back behind a head
	// this log anchored: someone removed entries from the database.
	cut error

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

// raiseCut records that the database's head went back: entry seq was
// appended although this log had seen entry seen committed, so entries
// were removed under a running gateway. It is raised for good
// (AnchorErr, OnAnchorError), and the log signs from the new head on so
// that the anchor records the cut too.
func (l *Log) raiseCut(e store.AuditEntry, seen int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastSeen = min(l.lastSeen, e.Seq-1)
	if l.anchor.cut != nil {
		return
	}
	l.anchor.cut = fmt.Errorf("%w: the chain's head went back to entry %d, behind entry %d this gateway saw: entries were removed from the database",
		ErrBroken, e.Seq, seen)
	l.anchor.unhealthy.Store(true)
	if l.opts.OnAnchorError != nil {
		l.opts.OnAnchorError(store.AuditCheckpoint{Seq: e.Seq, Hash: e.Hash}, l.anchor.cut)
	}
}

// sawSeq raises the highest committed seq this log knows of.
func (l *Log) sawSeq(seq int64) {
	for {
		cur := l.maxSeq.Load()
		if seq <= cur || l.maxSeq.CompareAndSwap(cur, seq) {
			return
		}
	}
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
	a.anchored.Store(max(a.anchored.Load(), c.Seq))
	a.unhealthy.Store(a.cut != nil)
	return nil
}

// AnchorErr is nil when every signed head has been anchored, and
// otherwise says which head is waiting and why (the gateway reports
// itself not ready meanwhile). Once the chain has gone back behind a head
// this log anchored it stays ErrBroken until restart: that is tampering.
func (l *Log) AnchorErr() error {
	if !l.anchor.unhealthy.Load() {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.anchor.cut != nil {
		return l.anchor.cut
	}
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
