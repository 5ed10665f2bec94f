package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/storage"
)

// Defaults.
const (
	DefaultInterval = time.Hour
	// batch bounds one pass's work per kind, so a backlog is worked off
	// over several passes rather than in one long one.
	batch = 500
)

// Store is the index the sweeper works on; *store.SQL implements it.
type Store interface {
	ExpiredRecordings(ctx context.Context, now time.Time, limit int) ([]store.Recording, error)
	ClaimExpired(ctx context.Context, id string, now time.Time) (bool, error)
	FinishDeletion(ctx context.Context, id string, proof []byte) (bool, error)
	HoldFlagsToSet(ctx context.Context, limit int) ([]store.HoldFlag, error)
	HoldFlagsToClear(ctx context.Context, limit int) ([]store.HoldFlag, error)
	MarkHoldFlag(ctx context.Context, f store.HoldFlag, on bool) error
}

var _ Store = (*store.SQL)(nil)

// Recorder appends audit events; *audit.Log implements it.
type Recorder interface {
	Record(ctx context.Context, ev audit.Event) (store.AuditEntry, error)
}

// Config configures a Sweeper.
type Config struct {
	Store   Store
	Objects storage.Store
	Audit   Recorder
	// Gateway names this gateway in the audit log and deletion proofs.
	Gateway  string
	Interval time.Duration // between passes (default DefaultInterval)
	Now      func() time.Time
	Logger   *zap.Logger
}

// Sweeper runs retention passes.
type Sweeper struct {
	cfg     Config
	log     *zap.Logger
	metrics *prometheus.CounterVec
}

// New returns a sweeper; Store, Objects and Audit are required.
func New(cfg Config) *Sweeper {
	if cfg.Store == nil || cfg.Objects == nil || cfg.Audit == nil {
		panic("retention: New needs Store, Objects and Audit")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	return &Sweeper{cfg: cfg, log: cfg.Logger, metrics: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mediaseal_retention_actions_total",
		Help: "Retention sweeper actions by kind (deleted, delete_failed, hold_set, hold_cleared, hold_failed).",
	}, []string{"action"})}
}

// Collector exports the sweeper's counters.
func (s *Sweeper) Collector() prometheus.Collector { return s.metrics }

// Result is what one pass did.
type Result struct {
	Deleted      []string `json:"deleted"`
	Failed       []string `json:"failed"`
	HoldsSet     int      `json:"holdsSet"`
	HoldsCleared int      `json:"holdsCleared"`
}

// Run sweeps every Interval until ctx ends.
func (s *Sweeper) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("retention: sweep", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Due lists what a pass would delete now (the dry run): claimed
// recordings not yet finished, then expired unheld ones.
func (s *Sweeper) Due(ctx context.Context, limit int) ([]store.Recording, error) {
	return s.cfg.Store.ExpiredRecordings(ctx, s.cfg.Now(), limit)
}

// Sweep runs one pass: legal-hold flags first, so an object newly held is
// flagged before anything is deleted, then the expired recordings. A
// failure on one recording is counted, audited and retried next pass; an
// error is returned only when the store cannot be read.
func (s *Sweeper) Sweep(ctx context.Context) (Result, error) {
	var res Result
	var errs []error
	if err := s.syncHoldFlags(ctx, &res); err != nil {
		errs = append(errs, err)
	}
	now := s.cfg.Now()
	due, err := s.cfg.Store.ExpiredRecordings(ctx, now, batch)
	if err != nil {
		return res, errors.Join(append(errs, err)...)
	}
	for _, r := range due {
		if ctx.Err() != nil {
			break
		}
		deleted, err := s.delete(ctx, r, now)
		if err != nil {
			res.Failed = append(res.Failed, r.ID)
			s.metrics.WithLabelValues("delete_failed").Inc()
			s.log.Warn("retention: cannot delete an expired recording (retried next pass)", zap.String("recording", r.ID), zap.Error(err))
			s.record(ctx, "recording.delete", r.ID, audit.OutcomeFailure, map[string]any{"reason": err.Error(), "objectKey": r.ObjectKey,
				"retainUntil": r.RetainUntil})
			continue
		}
		if deleted {
			res.Deleted = append(res.Deleted, r.ID)
		}
	}
	return res, errors.Join(errs...)
}

// proof is a tombstone's deletion proof.
type proof struct {
	Gateway     string                   `json:"gateway"`
	At          time.Time                `json:"at"`
	RetainUntil time.Time                `json:"retainUntil"`
	SHA256      string                   `json:"sha256"`
	Objects     []storage.DeletedVersion `json:"objects"`
}

// delete deletes one recording: claim, objects, tombstone. It reports
// whether it deleted: a recording the claim finds no longer eligible
// (held meanwhile, deleted by another gateway) is skipped.
func (s *Sweeper) delete(ctx context.Context, r store.Recording, now time.Time) (bool, error) {
	claimed, err := s.cfg.Store.ClaimExpired(ctx, r.ID, now)
	if err != nil || !claimed {
		return false, err
	}
	objs, err := s.purge(ctx, r.ObjectKey)
	if err != nil {
		return false, fmt.Errorf("delete %s: %w", r.ObjectKey, err)
	}
	b, err := json.Marshal(proof{Gateway: s.cfg.Gateway, At: s.cfg.Now().UTC(), RetainUntil: r.RetainUntil, SHA256: r.SHA256, Objects: objs})
	if err != nil {
		return false, err
	}
	done, err := s.cfg.Store.FinishDeletion(ctx, r.ID, b)
	if err != nil {
		return false, err
	}
	if done {
		s.metrics.WithLabelValues("deleted").Inc()
		s.record(ctx, "recording.deleted", r.ID, audit.OutcomeSuccess, map[string]any{"reason": "retention",
			"retainUntil": r.RetainUntil, "objectKey": r.ObjectKey, "versions": len(objs)})
	}
	return done, nil
}

// purge deletes every version of key where the store keeps versions,
// else the object.
func (s *Sweeper) purge(ctx context.Context, key string) ([]storage.DeletedVersion, error) {
	if p, ok := s.cfg.Objects.(storage.Purger); ok {
		return p.Purge(ctx, key)
	}
	info, err := s.cfg.Objects.Head(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return []storage.DeletedVersion{}, s.cfg.Objects.Delete(ctx, key)
	}
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Objects.Delete(ctx, key); err != nil {
		return nil, err
	}
	return []storage.DeletedVersion{{Key: key, Size: info.Size}}, nil
}

// syncHoldFlags sets the object store's legal-hold flag on every stored
// recording an active hold matches and clears it where none does any
// more. A store without legal holds (the filesystem) only keeps the
// index's view; the sweeper's own check is then the only protection.
func (s *Sweeper) syncHoldFlags(ctx context.Context, res *Result) error {
	lh, _ := s.cfg.Objects.(storage.LegalHolder)
	var errs []error
	for _, on := range []bool{true, false} {
		list := s.cfg.Store.HoldFlagsToSet
		action := "hold_set"
		if !on {
			list, action = s.cfg.Store.HoldFlagsToClear, "hold_cleared"
		}
		flags, err := list(ctx, batch)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range flags {
			if lh != nil {
				if err := lh.SetLegalHold(ctx, f.ObjectKey, on); err != nil && !(errors.Is(err, storage.ErrNotFound) && !on) {
					s.metrics.WithLabelValues("hold_failed").Inc()
					s.log.Warn("retention: cannot change an object's legal hold (retried next pass)", zap.String("recording", f.RecordingID),
						zap.Bool("on", on), zap.Error(err))
					continue
				}
			}
			if err := s.cfg.Store.MarkHoldFlag(ctx, f, on); err != nil {
				errs = append(errs, err)
				continue
			}
			s.metrics.WithLabelValues(action).Inc()
			if on {
				res.HoldsSet++
			} else {
				res.HoldsCleared++
			}
			s.record(ctx, "recording.legal_hold."+map[bool]string{true: "flagged", false: "unflagged"}[on], f.RecordingID,
				audit.OutcomeSuccess, map[string]any{"objectKey": f.ObjectKey, "objectStore": lh != nil})
		}
	}
	return errors.Join(errs...)
}

func (s *Sweeper) record(ctx context.Context, action, target, outcome string, details map[string]any) {
	details["gateway"] = s.cfg.Gateway
	if _, err := s.cfg.Audit.Record(ctx, audit.Event{Actor: "retention", Action: action, Target: target, Outcome: outcome,
		Details: details}); err != nil {
		s.log.Error("retention: cannot audit", zap.String("action", action), zap.String("recording", target), zap.Error(err))
	}
}
