package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// Defaults of [Config].
const (
	DefaultRatePerSecond      = 200
	DefaultConcurrency        = 4
	DefaultPageSize           = 100
	DefaultLease              = 30 * time.Second
	DefaultKMSTimeout         = 10 * time.Second
	DefaultMaxThrottleRetries = 8
	DefaultPoll               = 5 * time.Second
	minBackoff                = 100 * time.Millisecond
	maxBackoff                = 10 * time.Second
)

// Store is what the runner needs of the control-plane store; *store.SQL
// implements it.
type Store interface {
	CreateJob(ctx context.Context, j store.Job) (store.Job, error)
	GetJob(ctx context.Context, id string) (store.Job, error)
	ListJobs(ctx context.Context, kind string, active bool, limit int) ([]store.Job, error)
	ClaimJob(ctx context.Context, id, owner string, leaseUntil time.Time) (store.Job, error)
	ReleaseJob(ctx context.Context, id, owner string) error
	RequestJobCancel(ctx context.Context, id, by string) (store.Job, error)
	FinishJob(ctx context.Context, id, owner, status, progress, errText string) error
	CheckpointJob(ctx context.Context, c store.JobCheckpoint) (bool, error)
	ScanRecordings(ctx context.Context, scope store.JobScope, after store.JobCursor, limit int) ([]store.Recording, error)
	GetPolicy(ctx context.Context, id string) (store.StoredPolicy, error)
	ShredRecordings(ctx context.Context, provider, keyID string) (int64, error)
	// HeldRecordingsOfKey counts the key's recordings under legal hold.
	HeldRecordingsOfKey(ctx context.Context, provider, keyID string) (int64, error)
}

var _ Store = (*store.SQL)(nil)

// Deps is what a Runner works with.
type Deps struct {
	Store   Store
	Objects storage.Store
	// Provider returns the adapter for a provider name as the index stores
	// it ("local", "aws-kms", "pkcs11").
	Provider func(name string) (kms.Provider, bool)
	Auditor  Auditor
	Logger   *zap.Logger
	// Busy reports recordings a reseal must leave alone for now (still in
	// this gateway's spool). Nil: none.
	Busy func(recordingID string) bool
	// SealOptions are used to write resealed objects.
	SealOptions []seal.Option
	// PlatformKey may never be shredded.
	PlatformKey kms.KeyRef
}

// Config tunes a Runner; zero fields take the defaults above.
type Config struct {
	RatePerSecond      float64
	Burst              int
	Concurrency        int
	PageSize           int
	Lease              time.Duration
	KMSTimeout         time.Duration
	MaxThrottleRetries int
	Poll               time.Duration
	// Owner names this runner in job leases (default: random).
	Owner string
}

func (c *Config) defaults() {
	if c.RatePerSecond <= 0 {
		c.RatePerSecond = DefaultRatePerSecond
	}
	if c.Burst <= 0 {
		c.Burst = max(1, int(c.RatePerSecond/10))
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.PageSize <= 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.KMSTimeout <= 0 {
		c.KMSTimeout = DefaultKMSTimeout
	}
	if c.MaxThrottleRetries <= 0 {
		c.MaxThrottleRetries = DefaultMaxThrottleRetries
	}
	if c.Poll <= 0 {
		c.Poll = DefaultPoll
	}
	if c.Owner == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		c.Owner = "runner-" + hex.EncodeToString(b)
	}
}

// Runner creates re-encryption jobs and executes them one at a time in
// Run, resuming whatever a previous runner left unfinished.
type Runner struct {
	deps Deps
	cfg  Config
	wake chan struct{}

	mu      sync.Mutex
	running map[string]context.CancelCauseFunc

	// afterCommit, when set (tests), runs after each committed recording.
	afterCommit func(jobID string, p Progress)
}

// errJobCancelled is the cause of a job context cancelled by Cancel.
var errJobCancelled = errors.New("job cancelled")

// New returns a Runner. Deps.Store, Deps.Objects and Deps.Provider are required.
func New(deps Deps, cfg Config) (*Runner, error) {
	if deps.Store == nil || deps.Objects == nil || deps.Provider == nil {
		return nil, errors.New("jobs: New needs Deps.Store, Deps.Objects and Deps.Provider")
	}
	if deps.Auditor == nil {
		deps.Auditor = nopAuditor{}
	}
	if deps.Logger == nil {
		deps.Logger = zap.NewNop()
	}
	if deps.Busy == nil {
		deps.Busy = func(string) bool { return false }
	}
	cfg.defaults()
	return &Runner{deps: deps, cfg: cfg, wake: make(chan struct{}, 1), running: map[string]context.CancelCauseFunc{}}, nil
}

// Start validates spec and queues a job; Run executes it.
func (r *Runner) Start(ctx context.Context, spec Spec, actor string) (Job, error) {
	if err := spec.Normalize(); err != nil {
		return Job{}, err
	}
	for i, p := range spec.PolicyIDs {
		if _, err := r.deps.Store.GetPolicy(ctx, p); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return Job{}, &SpecError{fmt.Sprintf("policyIds[%d]", i), fmt.Sprintf("no policy %q", p)}
			}
			return Job{}, err
		}
	}
	row, err := r.deps.Store.CreateJob(ctx, store.Job{Kind: KindReencrypt, Spec: mustJSON(spec), Progress: mustJSON(Progress{}), CreatedBy: actor})
	if err != nil {
		return Job{}, err
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return fromRow(row)
}

// Get returns one job.
func (r *Runner) Get(ctx context.Context, id string) (Job, error) {
	row, err := r.deps.Store.GetJob(ctx, id)
	if err != nil {
		return Job{}, err
	}
	if row.Kind != KindReencrypt {
		return Job{}, fmt.Errorf("%w: job %s", store.ErrNotFound, id)
	}
	return fromRow(row)
}

// List returns the newest jobs first (unfinished only if active).
func (r *Runner) List(ctx context.Context, active bool, limit int) ([]Job, error) {
	rows, err := r.deps.Store.ListJobs(ctx, KindReencrypt, active, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Job, 0, len(rows))
	for _, row := range rows {
		j, err := fromRow(row)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// Cancel stops a job: a queued one at once, a running one at its next
// checkpoint (here or on whichever gateway runs it). Every recording stays
// readable: each change is atomic.
func (r *Runner) Cancel(ctx context.Context, id, actor string) (Job, error) {
	if _, err := r.Get(ctx, id); err != nil {
		return Job{}, err
	}
	row, err := r.deps.Store.RequestJobCancel(ctx, id, actor)
	if err != nil {
		return Job{}, err
	}
	r.mu.Lock()
	if cancel, ok := r.running[id]; ok {
		cancel(errJobCancelled)
	}
	r.mu.Unlock()
	j, err := fromRow(row)
	if err == nil && row.Status == store.JobCancelled {
		r.audit(ctx, ActionJobCancelled, "success", j)
	}
	return j, err
}

// Run executes queued and interrupted jobs until ctx is done. A job
// interrupted by ctx stays RUNNING with its checkpoint and lease released,
// for this or another runner to resume.
func (r *Runner) Run(ctx context.Context) error {
	t := time.NewTicker(r.cfg.Poll)
	defer t.Stop()
	for {
		r.runQueued(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-t.C:
		}
	}
}

// runQueued runs every unfinished job this runner can claim, oldest first.
func (r *Runner) runQueued(ctx context.Context) {
	for ctx.Err() == nil {
		rows, err := r.deps.Store.ListJobs(ctx, KindReencrypt, true, store.MaxListLimit)
		if err != nil {
			if ctx.Err() == nil {
				r.deps.Logger.Warn("jobs: list", zap.Error(err))
			}
			return
		}
		claimed := false
		for i := len(rows) - 1; i >= 0 && !claimed; i-- {
			row, err := r.deps.Store.ClaimJob(ctx, rows[i].ID, r.cfg.Owner, time.Now().Add(r.cfg.Lease))
			if err != nil {
				continue // held by another runner, or finished meanwhile
			}
			claimed = true
			r.execute(ctx, row)
		}
		if !claimed {
			return
		}
	}
}

func (r *Runner) audit(ctx context.Context, action, outcome string, j Job) {
	d := map[string]any{
		"mode": string(j.Spec.Mode), "dryRun": j.Spec.DryRun, "policyIds": j.Spec.PolicyIDs,
		"targetKeyVersion": j.Spec.TargetKeyVersion, "processed": j.Progress.Processed,
		"changed": j.Progress.Changed, "skipped": j.Progress.SkippedTotal(), "skippedBy": j.Progress.Skipped,
		"errors": j.Progress.Errors, "bytes": j.Progress.Bytes, "planned": j.Progress.Planned,
		"plannedChanges": j.Progress.PlannedChanges, "plannedBytes": j.Progress.PlannedBytes,
	}
	if j.Error != "" {
		d["error"] = j.Error
	}
	actor := j.CreatedBy
	if action == ActionJobCancelled && j.CancelledBy != "" {
		actor = j.CancelledBy
	}
	r.deps.Auditor.Record(ctx, Event{At: time.Now().UTC(), Actor: actor, Action: action, Target: "job:" + j.ID, Outcome: outcome, Details: d})
}
