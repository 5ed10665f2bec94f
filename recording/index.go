package recording

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/storage/seal"
)

// Row is what the index holds of a recording.
type Row struct {
	ID, SessionID, OrgID, CallID, QueueID, Direction string
	PolicyID                                         string
	PolicyVersion                                    int64
	ObjectKey                                        string
	StartedAt                                        time.Time
	GatewayID                                        string
	// AgentID and Caller (E.164 when it parses) are search fields.
	AgentID, Caller string
	Tracks          []Track
	// RetainUntil is fixed at creation; zero: no retention.
	RetainUntil time.Time
	// Read back only: the current envelope (a rewrap replaces it in the
	// index, not in the object) and the progress counted so far.
	Envelope   seal.Envelope
	KMSContext []byte // recordingkey.Marshal; nil for a legacy row
	Chunks     int64
}

// Progress is one recording's durable progress.
type Progress struct {
	ID            string
	Chunks, Bytes int64
	DurableAt     time.Time
}

// Index is the recordings index as the life cycle writes it (the
// control plane's store implements it). Get returns an error wrapping
// ErrNotFound for an id it does not hold; a write the index refuses for
// good (a conflict, an invalid value) returns an error wrapping
// ErrRejected, which is not retried.
type Index interface {
	Create(ctx context.Context, r Row) error
	// SetKey records the envelope and the KMS context (recordingkey.Marshal)
	// the DEK was wrapped under.
	SetKey(ctx context.Context, id string, env seal.Envelope, kmsContext []byte) error
	// Progress counts an ACTIVE recording's durable chunks and bytes.
	Progress(ctx context.Context, p Progress) error
	// ProgressBatch writes many in one transaction, never lowering a count.
	ProgressBatch(ctx context.Context, ps []Progress) error
	Finish(ctx context.Context, id, status string, chunks, bytes int64, sha256, objectKey string) error
	Get(ctx context.Context, id string) (Row, error)
}

// Bounds of the index writer.
const (
	// indexQueue is how many writes may wait for the store; beyond three
	// quarters of it new recordings are refused (ErrIndexBehind) rather
	// than started with no row.
	indexQueue = 4096
	// indexAttempt bounds one write, so a hung store counts as down.
	indexAttempt = 10 * time.Second
	// indexRetryMin and indexRetryMax bound the wait between attempts.
	indexRetryMin = 100 * time.Millisecond
	indexRetryMax = 5 * time.Second
	// progressEvery is how often coalesced progress is written: thousands
	// of recordings flushing every second cost one short transaction per
	// interval, not one each.
	progressEvery = 2 * time.Second
)

// indexOp is one write; then runs once it has landed.
type indexOp struct {
	what, id string
	do       func(ctx context.Context, ix Index) error
	then     func()
}

// indexWriter writes the index from one goroutine, in the order the
// writes were queued (a row is created before its key, progress and end
// are written). A write that fails is counted, logged and retried until
// it lands: the writes behind it wait, in order, so no recording is left
// unindexed while the process lives. Nothing on the media path waits for it.
type indexWriter struct {
	ix  Index
	log *zap.Logger
	m   *metrics
	q   chan indexOp

	mu       sync.Mutex
	progress map[string]int64 // recording id → durable bytes, pending
}

func newIndexWriter(ix Index, log *zap.Logger, m *metrics) *indexWriter {
	return &indexWriter{ix: ix, log: log, m: m, q: make(chan indexOp, indexQueue), progress: map[string]int64{}}
}

// behind reports whether the queue is too full to take a new recording.
func (w *indexWriter) behind() bool { return w.ix != nil && len(w.q) >= indexQueue*3/4 }

// queue adds a write, waiting while the queue is full (never on the
// session-create path: Begin uses tryQueue).
func (w *indexWriter) queue(op indexOp) {
	if w.ix == nil {
		if op.then != nil {
			op.then()
		}
		return
	}
	w.q <- op
}

// tryQueue adds a write unless the queue is full.
func (w *indexWriter) tryQueue(op indexOp) bool {
	if w.ix == nil {
		return true
	}
	select {
	case w.q <- op:
		return true
	default:
		return false
	}
}

// durable notes a recording's durable bytes, written with the next batch
// (on every flush: kept to a map write).
func (w *indexWriter) durable(id string, bytes int64) {
	w.mu.Lock()
	w.progress[id] = bytes
	w.mu.Unlock()
}

// run writes queued ops and progress batches until ctx is done; what is
// still queued then is counted and logged (the spool keeps those files,
// and the next start finishes them).
func (w *indexWriter) run(ctx context.Context) {
	if w.ix == nil {
		return
	}
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			w.abandon()
			return
		case op := <-w.q:
			w.apply(ctx, op)
		case <-t.C:
			// What was queued before this tick goes first: a recording's
			// row is created before its progress is counted.
			for n := len(w.q); n > 0 && ctx.Err() == nil; n-- {
				w.apply(ctx, <-w.q)
			}
			w.writeProgress(ctx)
		}
	}
}

// drain returns once every write queued before it has landed, or when
// ctx ends.
func (w *indexWriter) drain(ctx context.Context) error {
	if w.ix == nil {
		return nil
	}
	done := make(chan struct{})
	select {
	case w.q <- indexOp{what: "drain", do: func(context.Context, Index) error { return nil }, then: func() { close(done) }}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *indexWriter) apply(ctx context.Context, op indexOp) {
	wait := indexRetryMin
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, indexAttempt)
		err := op.do(actx, w.ix)
		cancel()
		if err == nil {
			if attempt > 1 {
				w.log.Info("index write landed after retries", zap.String("write", op.what), zap.String("recording", op.id), zap.Int("attempts", attempt))
			}
			if op.then != nil {
				op.then()
			}
			return
		}
		w.m.indexFailures.Inc()
		if errors.Is(err, ErrRejected) {
			w.log.Error("index write refused", zap.String("write", op.what), zap.String("recording", op.id), zap.Error(err))
			return
		}
		w.log.Warn("index write failed; retrying", zap.String("write", op.what), zap.String("recording", op.id),
			zap.Int("attempt", attempt), zap.Duration("retryIn", wait), zap.Error(err))
		select {
		case <-ctx.Done():
			w.m.indexAbandoned.Inc()
			w.log.Error("index write abandoned at shutdown", zap.String("write", op.what), zap.String("recording", op.id), zap.Error(err))
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, indexRetryMax)
	}
}

// writeProgress writes the pending progress in one batch; a batch that
// fails goes back to the pending set unless newer progress came meanwhile.
func (w *indexWriter) writeProgress(ctx context.Context) {
	w.mu.Lock()
	batch := w.progress
	w.progress = make(map[string]int64, len(batch))
	w.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	// While recording, the index counts durable bytes; the exact chunk
	// count is written when the recording is closed.
	now := time.Now()
	ps := make([]Progress, 0, len(batch))
	for id, b := range batch {
		ps = append(ps, Progress{ID: id, Bytes: b, DurableAt: now})
	}
	wctx, cancel := context.WithTimeout(ctx, indexAttempt)
	err := w.ix.ProgressBatch(wctx, ps)
	cancel()
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	w.m.indexFailures.Inc()
	w.log.Warn("index: progress batch failed; kept for the next", zap.Int("recordings", len(ps)), zap.Error(err))
	w.mu.Lock()
	for id, p := range batch {
		if _, newer := w.progress[id]; !newer {
			w.progress[id] = p
		}
	}
	w.mu.Unlock()
}

// abandon counts and logs what is still queued when the writer stops.
func (w *indexWriter) abandon() {
	for {
		select {
		case op := <-w.q:
			if op.what == "drain" {
				continue
			}
			w.m.indexAbandoned.Inc()
			w.log.Error("index write abandoned at shutdown", zap.String("write", op.what), zap.String("recording", op.id))
		default:
			return
		}
	}
}
