package audit

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// DefaultCheckpointEvery is how many entries may follow a checkpoint
// before Record signs a new one.
const DefaultCheckpointEvery = 50

// Repository is the storage the log needs; *store.SQL implements it.
type Repository interface {
	AppendAuditEntry(ctx context.Context, build func(prevSeq int64, prevHash string) (store.AuditEntry, error)) (store.AuditEntry, error)
	ListAuditEntries(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
	AddAuditCheckpoint(ctx context.Context, c store.AuditCheckpoint) error
	ListAuditCheckpoints(ctx context.Context) ([]store.AuditCheckpoint, error)
}

var _ Repository = (*store.SQL)(nil)

// Options configure a Log.
type Options struct {
	// Signer is the organisation's audit key; without it Checkpoint fails
	// with ErrNoSigner and Record does not checkpoint.
	Signer ed25519.PrivateKey
	// Kid names Signer in checkpoints.
	Kid string
	// CheckpointEvery (default DefaultCheckpointEvery).
	CheckpointEvery int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Anchor, when set, receives every signed head as it is made (see
	// anchoring.go); nil keeps heads only in the database.
	Anchor Anchor
	// AnchorRetry is how soon a head that could not be anchored is tried
	// again (default DefaultAnchorRetry).
	AnchorRetry time.Duration
	// OnAnchorError is told of every failed anchoring attempt (the
	// gateway logs it); nil ignores it (it is still counted).
	OnAnchorError func(head store.AuditCheckpoint, err error)
}

// Log appends to and reads the hash chain. It is safe for concurrent use.
type Log struct {
	repo Repository
	opts Options

	mu       sync.Mutex // serialises checkpoints and anchoring
	lastSeen int64      // last checkpointed seq
	// maxSeq is the highest seq this log knows committed (appended by it
	// or signed as a head).
	maxSeq atomic.Int64

	anchor anchorState
}

// New returns a log over repo.
func New(repo Repository, opts Options) *Log {
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = DefaultCheckpointEvery
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AnchorRetry <= 0 {
		opts.AnchorRetry = DefaultAnchorRetry
	}
	return &Log{repo: repo, opts: opts}
}

// Record appends ev to the chain and returns the stored entry.
func (l *Log) Record(ctx context.Context, ev Event) (store.AuditEntry, error) {
	if ev.Action == "" {
		return store.AuditEntry{}, fmt.Errorf("audit: event without action")
	}
	if ev.Actor == "" {
		ev.Actor = "system"
	}
	if ev.Outcome == "" {
		ev.Outcome = OutcomeSuccess
	}
	details := []byte("{}")
	if len(ev.Details) > 0 {
		var err error
		if details, err = json.Marshal(ev.Details); err != nil { // sorted keys: deterministic
			return store.AuditEntry{}, fmt.Errorf("audit: details of %s: %w", ev.Action, err)
		}
	}
	var seen int64 // set when the database's head is behind an entry already committed
	e, err := l.repo.AppendAuditEntry(ctx, func(prevSeq int64, prevHash string) (store.AuditEntry, error) {
		// Builds run under the database's append lock, and maxSeq only
		// holds committed entries: a head behind it lost entries.
		seen = 0
		if m := l.maxSeq.Load(); prevSeq < m {
			seen = m
		}
		e := store.AuditEntry{Seq: prevSeq + 1, ID: store.NewID(), At: l.opts.Now().UTC().Truncate(time.Microsecond),
			Actor: ev.Actor, Action: ev.Action, Target: ev.Target, Outcome: ev.Outcome, Details: string(details), PrevHash: prevHash}
		e.Hash = EntryHash(e)
		return e, nil
	})
	if err != nil {
		return store.AuditEntry{}, err
	}
	if seen > 0 {
		l.raiseCut(e, seen)
	}
	l.sawSeq(e.Seq)
	// A sensitive event is signed (and anchored) at once, so that
	// removing it is detected even before the next periodic checkpoint.
	if l.opts.Signer != nil && (e.Seq%int64(l.opts.CheckpointEvery) == 0 || Sensitive(e.Action)) {
		// An anchoring failure does not fail the record: the entry is
		// written and signed, the head is retried by Run, and AnchorErr
		// (the gateway's readiness) reports it until it is anchored.
		if _, err := l.Checkpoint(ctx); err != nil && !errors.Is(err, ErrAnchor) {
			return e, err
		}
	}
	return e, nil
}

// Checkpoint signs the current head and returns the new checkpoint; it
// returns a zero checkpoint when nothing was appended since the last one.
func (l *Log) Checkpoint(ctx context.Context) (store.AuditCheckpoint, error) {
	if l.opts.Signer == nil {
		return store.AuditCheckpoint{}, ErrNoSigner
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	head, err := l.head(ctx)
	if err != nil {
		return store.AuditCheckpoint{}, err
	}
	if head.Seq == 0 {
		return store.AuditCheckpoint{}, l.retryAnchorLocked(ctx)
	}
	l.sawSeq(head.Seq)
	c := store.AuditCheckpoint{Seq: head.Seq, Hash: head.Hash, At: l.opts.Now().UTC().Truncate(time.Microsecond), Kid: l.opts.Kid}
	c.Signature = ed25519.Sign(l.opts.Signer, checkpointMessage(c.Seq, c.Hash, c.At, c.Kid))
	if err := l.repo.AddAuditCheckpoint(ctx, c); err != nil && !errors.Is(err, store.ErrDuplicate) {
		return store.AuditCheckpoint{}, err
	}
	l.lastSeen = c.Seq
	return c, l.publishLocked(ctx, c)
}

// head returns the newest entry (zero for an empty log).
func (l *Log) head(ctx context.Context) (store.AuditEntry, error) {
	var last store.AuditEntry
	after := l.lastSeen
	for {
		page, err := l.repo.ListAuditEntries(ctx, store.AuditFilter{AfterSeq: after, Limit: store.MaxListLimit})
		if err != nil {
			return store.AuditEntry{}, err
		}
		if len(page) == 0 {
			if last.Seq == 0 && after > 0 {
				// Nothing new since the last checkpoint.
				return store.AuditEntry{Seq: 0}, nil
			}
			return last, nil
		}
		last = page[len(page)-1]
		after = last.Seq
	}
}

// Run checkpoints the head every interval while new entries arrive, and
// retries a head that could not be anchored every Options.AnchorRetry,
// until ctx is done.
func (l *Log) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	retry := time.NewTicker(l.opts.AnchorRetry)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = l.Checkpoint(ctx) // a failed checkpoint is retried next tick
		case <-retry.C:
			l.mu.Lock()
			_ = l.retryAnchorLocked(ctx) // counted and reported by AnchorErr
			l.mu.Unlock()
		}
	}
}

// List returns entries matching f.
func (l *Log) List(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	return l.repo.ListAuditEntries(ctx, f)
}
