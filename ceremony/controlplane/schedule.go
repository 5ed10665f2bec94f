package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/jobs"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
)

// sweeperID names this gateway's claims on scheduled operations; it is
// unique per gateway instance, even for several in one process.
func sweeperID(gatewayID string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "gateway-" + gatewayID + "-" + hex.EncodeToString(b)
}

// sweepApprovals expires stale proposals and executes the scheduled key
// operations whose delay is over, every interval until ctx is done. Every
// gateway sharing the store sweeps; the store's claim makes exactly one
// of them execute each operation.
func (s *Service) sweepApprovals(ctx context.Context, interval time.Duration) {
	owner := sweeperID(s.cfg.GatewayID)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.approvals.ExpireDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("approval expiry sweep failed", zap.Error(err))
		}
		n, err := s.approvals.RunDue(ctx, owner, s.executeScheduled)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("scheduled approvals: sweep failed", zap.Error(err))
		}
		if n > 0 {
			s.log.Info("scheduled approvals executed", zap.Int("count", n), zap.String("executor", owner))
		}
	}
}

// executeScheduled carries out a due key.disable or key.delete for its
// approvers (approvals.Executor): the same steps as the control plane's
// execution endpoints, audited with the approvers as the actor. KMS and
// store outages are transient (retried); an unknown key, the platform key
// or a provider that refuses are final.
func (s *Service) executeScheduled(ctx context.Context, a store.Approval, approvers []string) (err error) {
	actor := strings.Join(approvers, ",")
	details := map[string]any{"approval": a.ID, "proposer": a.Proposer, "approvers": approvers}
	action := a.Operation
	defer func() {
		if err != nil {
			details["reason"] = err.Error()
			s.recordScheduled(ctx, actor, action+".failed", a.Target, audit.OutcomeFailure, details)
			err = classifyScheduled(err)
		}
		if rerr := s.Refresh(ctx); rerr != nil { // this gateway's next session sees the new state
			s.log.Warn("catalog refresh after a scheduled key operation", zap.Error(rerr))
		}
	}()
	// The key may have been registered through another gateway since this
	// one last refreshed its catalog (ShredKey resolves keys there).
	if err := s.Refresh(ctx); err != nil {
		return err
	}
	k, err := s.st.GetKey(ctx, a.Target)
	if err != nil {
		return err
	}
	lc := keyLifecycle{s}
	if ref, ok := lc.ref(k); ok && ref == s.deps.PlatformKey {
		return lc.platformKeyRefused(k, map[string]string{approvals.OpKeyDisable: "disabled", approvals.OpKeyDelete: "deleted"}[a.Operation])
	}
	switch a.Operation {
	case approvals.OpKeyDisable:
		inProvider, err := lc.DisableKey(ctx, k)
		if err != nil {
			return err
		}
		if _, err := s.st.UpdateKeyState(ctx, k.ID, string(kms.StateDisabled)); err != nil {
			return err
		}
		details["inProvider"] = inProvider
		s.recordScheduled(ctx, actor, "key.disabled", k.ID, audit.OutcomeSuccess, details)
		return nil
	case approvals.OpKeyDelete:
		if k.State == KeyStateDestroyed { // a gateway died after shredding, before finishing
			s.recordScheduled(ctx, actor, "key.deleted", k.ID, audit.OutcomeSuccess, details)
			return nil
		}
		// A key protecting held recordings keeps its state (so they stay
		// readable, as litigation needs) and the deletion is retried.
		if ref, ok := lc.ref(k); ok {
			held, err := s.st.HeldRecordingsOfKey(ctx, ref.Provider, ref.KeyID)
			if err != nil {
				return err
			}
			if held > 0 {
				return fmt.Errorf("%w: %s protects %d held recording(s); the deletion waits until their holds are released",
					jobs.ErrLegalHold, k.ID, held)
			}
		}
		prev := k.State
		if _, err := s.st.UpdateKeyState(ctx, k.ID, string(kms.StatePendingDeletion)); err != nil {
			return err
		}
		n, err := lc.ShredKey(ctx, k.ID, actor)
		if err != nil {
			if !transientScheduled(err) { // final: the key is not left half-deleted
				if _, rerr := s.st.UpdateKeyState(ctx, k.ID, prev); rerr != nil {
					s.log.Error("cannot restore a key's state after a failed deletion", zap.String("key", k.ID), zap.Error(rerr))
				}
			}
			return err
		}
		details["recordingsShredded"] = n
		s.recordScheduled(ctx, actor, "key.deleted", k.ID, audit.OutcomeSuccess, details)
		return nil
	}
	return fmt.Errorf("%w: %s cannot be scheduled", approvals.ErrInvalid, a.Operation)
}

// permanentScheduled are the failures of a scheduled execution that a
// retry cannot fix; anything else (KMS unavailable or throttled, a
// timeout, a database error) is retried until the proposal's ExecuteBy.
var permanentScheduled = []error{store.ErrNotFound, store.ErrInvalid, kms.ErrNotFound, kms.ErrAccessDenied,
	kms.ErrRegionMismatch, jobs.ErrShredRefused, jobs.ErrNoProvider, jobs.ErrNotDestroyable, approvals.ErrInvalid}

// transientScheduled reports whether a scheduled execution's failure is
// worth retrying.
func transientScheduled(err error) bool {
	var apiErr *api.Error
	if errors.As(err, &apiErr) { // e.g. 409 for the platform key
		return false
	}
	for _, p := range permanentScheduled {
		if errors.Is(err, p) {
			return false
		}
	}
	return true
}

func classifyScheduled(err error) error {
	if transientScheduled(err) {
		return fmt.Errorf("%w: %w", approvals.ErrTransient, err)
	}
	return err
}

// recordScheduled appends a scheduled key operation's event to the audit log.
func (s *Service) recordScheduled(ctx context.Context, actor, action, target, outcome string, details map[string]any) {
	s.log.Info("audit: scheduled "+action, zap.String("actor", actor), zap.String("target", target), zap.String("outcome", outcome))
	if s.audit == nil {
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := s.audit.Record(actx, audit.Event{Actor: actor, Action: action, Target: target, Outcome: outcome, Details: details}); err != nil {
		s.log.Error("audit: cannot record a scheduled key operation", zap.Error(err))
	}
}
