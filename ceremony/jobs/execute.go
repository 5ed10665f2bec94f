package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// execution is one run of one job by this runner.
type execution struct {
	r       *Runner
	job     Job
	p       Progress
	objects *countingStore
	limiter *rate.Limiter
	began   time.Time
	base    int64 // ElapsedNS before this run

	mu        sync.Mutex
	described map[string]string // key → current version from Describe ("" unknown)
	learned   map[string]string // key → version learned from a rewrap
	throttled atomic.Int64

	pending []string // objects to delete once committed (old objects of resealed recordings)
}

// stopReason says why a walk ended early.
type stopReason int

const (
	stopNone stopReason = iota
	stopShutdown
	stopCancelled
	stopLeaseLost
)

func (r *Runner) execute(ctx context.Context, row store.Job) {
	log := r.deps.Logger.With(zap.String("job", row.ID))
	j, err := fromRow(row)
	if err != nil {
		log.Error("jobs: unreadable job", zap.Error(err))
		_ = r.deps.Store.FinishJob(ctx, row.ID, r.cfg.Owner, store.JobFailed, row.Progress, err.Error())
		return
	}
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.mu.Lock()
	r.running[j.ID] = cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.running, j.ID)
		r.mu.Unlock()
	}()

	rps := r.cfg.RatePerSecond
	if j.Spec.RatePerSecond > 0 {
		rps = j.Spec.RatePerSecond
	}
	ex := &execution{r: r, job: j, p: j.Progress, objects: &countingStore{Store: r.deps.Objects},
		limiter: rate.NewLimiter(rate.Limit(rps), max(1, int(rps/10))), began: time.Now(), base: j.Progress.ElapsedNS,
		described: map[string]string{}, learned: map[string]string{}}
	if row.Pending != "" {
		_ = json.Unmarshal([]byte(row.Pending), &ex.pending)
	}
	for k, v := range j.Progress.Targets {
		ex.learned[k] = v
	}
	if !j.Progress.PlanDone && j.Progress.Processed == 0 {
		r.audit(ctx, ActionJobStarted, "success", j)
	} else {
		log.Info("jobs: resuming", zap.Int64("processed", j.Progress.Processed), zap.String("after", j.Progress.Cursor.ID))
	}
	stop, err := ex.run(jctx)
	if stop == stopNone && err == nil && context.Cause(jctx) == errJobCancelled {
		stop = stopCancelled
	}
	ex.finish(ctx, stop, err)
}

// run plans (once) and walks the job's scope.
func (ex *execution) run(ctx context.Context) (stopReason, error) {
	ex.deletePending(ctx)
	if !ex.p.PlanDone {
		if stop, err := ex.plan(ctx); stop != stopNone || err != nil {
			return stop, err
		}
		if ex.job.Spec.DryRun {
			return stopNone, nil
		}
	}
	if ex.job.Spec.DryRun {
		return stopNone, nil
	}
	return ex.walk(ctx)
}

// plan counts the scope: recordings, those to change, their bytes and the
// skip reasons. A dry run reports exactly this and stops.
func (ex *execution) plan(ctx context.Context) (stopReason, error) {
	var cur store.JobCursor
	var counts Progress
	for {
		page, err := ex.r.deps.Store.ScanRecordings(ctx, ex.job.Spec.scope(), cur, ex.r.cfg.PageSize)
		if err != nil {
			return ex.interrupted(ctx, err)
		}
		if len(page) == 0 {
			break
		}
		for _, rec := range page {
			counts.Processed++
			skip, _, err := ex.classify(ctx, rec)
			switch {
			case errors.Is(err, ErrTargetNotCurrent):
				return stopNone, err
			case err != nil:
				if ctx.Err() != nil {
					return ex.interrupted(ctx, err)
				}
				counts.fail(rec.ID, err, time.Now().UTC())
			case skip != "":
				counts.skip(skip)
			default:
				counts.Changed++
				counts.Bytes += rec.Bytes
			}
		}
		last := page[len(page)-1]
		cur = store.JobCursor{StartedAt: last.StartedAt.UnixNano(), ID: last.ID}
	}
	ex.p.Planned, ex.p.PlannedChanges, ex.p.PlannedBytes, ex.p.PlanDone = counts.Processed, counts.Changed, counts.Bytes, true
	if ex.job.Spec.DryRun {
		ex.p.Processed, ex.p.Changed, ex.p.Bytes, ex.p.Skipped = counts.Processed, counts.Changed, counts.Bytes, counts.Skipped
		ex.p.Errors, ex.p.RecentErrors = counts.Errors, counts.RecentErrors
	}
	_, stop, err := ex.checkpoint(ctx, nil)
	return stop, err
}

// interrupted classifies an error that ended a walk: a cancelled context
// is a stop, anything else fails the job.
func (ex *execution) interrupted(ctx context.Context, err error) (stopReason, error) {
	switch {
	case context.Cause(ctx) == errJobCancelled:
		return stopCancelled, nil
	case ctx.Err() != nil:
		return stopShutdown, nil
	}
	return stopNone, err
}

// outcome is what processing one recording produced, committed in order.
type outcome struct {
	skip     string
	err      error
	envelope *store.EnvelopeChange
	object   *store.ObjectChange
	target   string // key whose version was learned
	version  string
	bytes    int64
	aborted  bool
}

// walk processes the scope after the checkpoint, page by page: workers
// run ahead (bounded by Concurrency and the page), one committer applies
// outcomes strictly in order with the checkpoint.
func (ex *execution) walk(ctx context.Context) (stopReason, error) {
	for {
		page, err := ex.r.deps.Store.ScanRecordings(ctx, ex.job.Spec.scope(), ex.p.Cursor, ex.r.cfg.PageSize)
		if err != nil {
			return ex.interrupted(ctx, err)
		}
		if len(page) == 0 {
			return stopNone, nil
		}
		if stop, err := ex.walkPage(ctx, page); stop != stopNone || err != nil {
			return stop, err
		}
	}
}

func (ex *execution) walkPage(ctx context.Context, page []store.Recording) (stopReason, error) {
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	futures := make([]chan outcome, len(page))
	for i := range futures {
		futures[i] = make(chan outcome, 1)
	}
	sem := make(chan struct{}, ex.r.cfg.Concurrency)
	var wg sync.WaitGroup
	go func() {
		for i, rec := range page {
			select {
			case sem <- struct{}{}:
			case <-wctx.Done():
				for _, f := range futures[i:] {
					f <- outcome{aborted: true}
				}
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				futures[i] <- ex.process(wctx, rec)
			}()
		}
	}()
	var stop stopReason
	var ferr error
	for i, rec := range page {
		o := <-futures[i]
		if stop != stopNone || ferr != nil || o.aborted {
			ex.discard(o)
			continue
		}
		if o.err != nil && (errors.Is(o.err, ErrTargetNotCurrent) || ctx.Err() != nil) {
			ex.discard(o)
			if errors.Is(o.err, ErrTargetNotCurrent) {
				ferr = o.err
			} else {
				stop, ferr = ex.interrupted(ctx, o.err)
			}
			wcancel()
			continue
		}
		stop, ferr = ex.commit(ctx, rec, o)
		if stop != stopNone || ferr != nil {
			wcancel()
		}
	}
	wg.Wait()
	return stop, ferr
}

// commit applies one outcome and advances the checkpoint past rec.
func (ex *execution) commit(ctx context.Context, rec store.Recording, o outcome) (stopReason, error) {
	now := time.Now().UTC()
	prev := ex.p
	prev.Skipped = cloneCounts(ex.p.Skipped)
	prev.RecentErrors = append([]ItemError(nil), ex.p.RecentErrors...)
	ex.p.Processed++
	ex.p.Cursor = store.JobCursor{StartedAt: rec.StartedAt.UnixNano(), ID: rec.ID}
	var env *store.EnvelopeChange
	var obj *store.ObjectChange
	switch {
	case o.err != nil:
		ex.p.fail(rec.ID, o.err, now)
	case o.skip != "":
		ex.p.skip(o.skip)
	default:
		ex.p.Changed++
		ex.p.Bytes += o.bytes
		env, obj = o.envelope, o.object
		if o.target != "" && ex.target(o.target) == "" {
			ex.mu.Lock()
			ex.learned[o.target] = o.version
			ex.mu.Unlock()
		}
	}
	if obj != nil {
		ex.pending = append(ex.pending, obj.FromObjectKey)
	}
	cancelled, stop, err := ex.checkpoint(ctx, &store.JobCheckpoint{Envelope: env, Object: obj})
	if errors.Is(err, store.ErrConflict) && (env != nil || obj != nil) {
		// The recording changed under us (or the lease is gone): undo the
		// counters, drop the change, and retry the checkpoint alone.
		ex.p = prev
		ex.p.Processed++
		ex.p.Cursor = store.JobCursor{StartedAt: rec.StartedAt.UnixNano(), ID: rec.ID}
		ex.p.skip(SkipConcurrent)
		if obj != nil {
			ex.pending = ex.pending[:len(ex.pending)-1]
			ex.deleteObject(ctx, obj.ObjectKey)
		}
		cancelled, stop, err = ex.checkpoint(ctx, nil)
	}
	if err != nil || stop != stopNone {
		return stop, err
	}
	ex.deletePending(ctx)
	if f := ex.r.afterCommit; f != nil {
		f(ex.job.ID, ex.p)
	}
	if cancelled {
		return stopCancelled, nil
	}
	if ctx.Err() != nil {
		return ex.interrupted(ctx, ctx.Err())
	}
	return stopNone, nil
}

// checkpoint stores progress (with c's recording change, if any) and
// renews the lease. A lost lease stops the walk without finishing.
func (ex *execution) checkpoint(ctx context.Context, c *store.JobCheckpoint) (cancelled bool, stop stopReason, err error) {
	if c == nil {
		c = &store.JobCheckpoint{}
	}
	ex.snapshot()
	c.JobID, c.Owner, c.Progress = ex.job.ID, ex.r.cfg.Owner, mustJSON(ex.p)
	c.Pending = ""
	if len(ex.pending) > 0 {
		c.Pending = mustJSON(ex.pending)
	}
	c.LeaseUntil = time.Now().Add(ex.r.cfg.Lease)
	// The commit must not be torn by the walk's cancellation.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	cancelled, err = ex.r.deps.Store.CheckpointJob(cctx, *c)
	if errors.Is(err, store.ErrConflict) && c.Envelope == nil && c.Object == nil {
		return false, stopLeaseLost, nil
	}
	return cancelled, stopNone, err
}

// snapshot copies the live counters into the progress.
func (ex *execution) snapshot() {
	ex.p.ElapsedNS = ex.base + int64(time.Since(ex.began))
	ex.p.Throttled = ex.job.Progress.Throttled + ex.throttled.Load()
	ex.p.MediaBytesRead = ex.job.Progress.MediaBytesRead + ex.objects.read.Load()
	ex.p.MediaBytesWritten = ex.job.Progress.MediaBytesWritten + ex.objects.written.Load()
	ex.mu.Lock()
	t := make(map[string]string, len(ex.learned)+len(ex.described))
	for k, v := range ex.learned {
		t[k] = v
	}
	for k, v := range ex.described {
		if v != "" {
			t[k] = v
		}
	}
	ex.mu.Unlock()
	ex.p.Targets = t
}

// discard cleans up after an outcome that will not be committed.
func (ex *execution) discard(o outcome) {
	if o.object != nil {
		ex.deleteObject(context.Background(), o.object.ObjectKey)
	}
}

func (ex *execution) deleteObject(ctx context.Context, key string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := ex.r.deps.Objects.Delete(dctx, key); err != nil {
		ex.r.deps.Logger.Warn("jobs: delete object", zap.String("job", ex.job.ID), zap.String("object", key), zap.Error(err))
	}
}

// deletePending deletes the old objects of committed reseals; what fails
// stays pending for the next checkpoint or run.
func (ex *execution) deletePending(ctx context.Context) {
	left := ex.pending[:0]
	for _, key := range ex.pending {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err := ex.r.deps.Objects.Delete(dctx, key)
		cancel()
		if err != nil {
			ex.r.deps.Logger.Warn("jobs: delete old object; kept pending", zap.String("object", key), zap.Error(err))
			left = append(left, key)
		}
	}
	ex.pending = left
}

// finish records how the run ended: a final status, or (shutdown, lost
// lease) nothing but a released lease so the job resumes later.
func (ex *execution) finish(ctx context.Context, stop stopReason, err error) {
	r := ex.r
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	ex.snapshot()
	ex.job.Progress = ex.p
	status, action, outcome := store.JobCompleted, ActionJobCompleted, "success"
	switch {
	case stop == stopShutdown:
		if _, _, cerr := ex.checkpoint(bg, nil); cerr != nil {
			r.deps.Logger.Warn("jobs: final checkpoint", zap.String("job", ex.job.ID), zap.Error(cerr))
		}
		if rerr := r.deps.Store.ReleaseJob(bg, ex.job.ID, r.cfg.Owner); rerr != nil {
			r.deps.Logger.Warn("jobs: release", zap.String("job", ex.job.ID), zap.Error(rerr))
		}
		return
	case stop == stopLeaseLost:
		r.deps.Logger.Warn("jobs: lease lost; another runner has the job", zap.String("job", ex.job.ID))
		return
	case stop == stopCancelled:
		status, action = store.JobCancelled, ActionJobCancelled
	case err != nil:
		status, action, outcome = store.JobFailed, ActionJobFailed, "failure"
		ex.job.Error = err.Error()
	case ex.p.Errors > 0:
		// Recordings the job could not change are still under their old
		// key version: the job is not done, whatever else succeeded.
		status, outcome = store.JobCompletedWithErrors, "failure"
	}
	if len(ex.pending) > 0 {
		ex.deletePending(bg)
		if len(ex.pending) > 0 {
			r.deps.Logger.Error("jobs: old objects left after reseal", zap.String("job", ex.job.ID), zap.Strings("objects", ex.pending))
		}
	}
	if ferr := r.deps.Store.FinishJob(bg, ex.job.ID, r.cfg.Owner, status, mustJSON(ex.p), ex.job.Error); ferr != nil {
		r.deps.Logger.Error("jobs: finish", zap.String("job", ex.job.ID), zap.Error(ferr))
		return
	}
	if row, gerr := r.deps.Store.GetJob(bg, ex.job.ID); gerr == nil {
		if j, jerr := fromRow(row); jerr == nil {
			ex.job = j
		}
	}
	r.deps.Logger.Info("jobs: finished", zap.String("job", ex.job.ID), zap.String("status", status),
		zap.Int64("changed", ex.p.Changed), zap.Int64("skipped", ex.p.SkippedTotal()), zap.Int64("errors", ex.p.Errors))
	r.audit(bg, action, outcome, ex.job)
}

func cloneCounts(m map[string]int64) map[string]int64 {
	if m == nil {
		return nil
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func keyOf(provider, keyID string) string { return fmt.Sprintf("%s:%s", provider, keyID) }
