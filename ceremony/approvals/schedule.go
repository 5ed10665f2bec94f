package approvals

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// Executor carries out a scheduled operation on behalf of its approvers
// (principal ids, in voting order). A failure that wraps ErrTransient is
// retried; any other failure is final.
type Executor func(ctx context.Context, a store.Approval, approvers []string) error

// finishTimeout bounds recording an execution's outcome, which is written
// even when the sweep's context was cancelled (shutdown) meanwhile.
const finishTimeout = 10 * time.Second

// RunDue executes the scheduled operations that are due. Each is claimed
// in the store first, so that of several gateways sharing it exactly one
// runs it (a claim lapses after Config.Lease if its gateway dies), then
// run by exec and marked EXECUTED; a transient failure puts it back to
// SCHEDULED with a backoff until its ExecuteBy, any other failure makes it
// FAILED. owner names this gateway. It returns how many it executed.
func (s *Service) RunDue(ctx context.Context, owner string, exec Executor) (int, error) {
	if owner == "" || exec == nil {
		return 0, fmt.Errorf("%w: RunDue needs an owner and an executor", ErrInvalid)
	}
	due, err := s.repo.DueApprovals(ctx, s.now(), 0)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, a := range due {
		if ctx.Err() != nil {
			break
		}
		ok, err := s.runOne(ctx, owner, a.ID, exec)
		if err != nil {
			errs = append(errs, fmt.Errorf("approval %s: %w", a.ID, err))
		}
		if ok {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// runOne claims, executes and finishes one due proposal; false without an
// error means another gateway or a veto came first.
func (s *Service) runOne(ctx context.Context, owner, id string, exec Executor) (bool, error) {
	now := s.now()
	a, err := s.repo.ClaimApproval(ctx, id, owner, now, now.Add(s.cfg.Lease))
	if errors.Is(err, store.ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, votes, err := s.repo.GetApproval(ctx, id)
	if err != nil {
		return false, err
	}
	approvers := make([]string, 0, len(votes))
	for _, v := range votes {
		approvers = append(approvers, v.Principal)
	}
	// The rule in force now, not the one at proposal time: a raised rule
	// stops what its old quorum approved (a final failure).
	rules, xerr := s.rules(ctx)
	if xerr != nil {
		xerr = fmt.Errorf("%w: %v", ErrTransient, xerr) // the store is unreachable: retry
	} else {
		xerr = stillMet(rules, a, votes)
	}
	if xerr == nil {
		xctx, cancel := context.WithTimeout(ctx, s.cfg.Lease)
		xerr = exec(xctx, a, approvers)
		cancel()
	}

	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer fcancel()
	done := s.now()
	final, err := s.repo.UpdateApproval(fctx, id, func(a *store.Approval, _ []store.ApprovalVote) (*store.ApprovalVote, error) {
		if a.Status != store.ApprovalExecuting || a.Owner != owner {
			return nil, fmt.Errorf("%w: %s lost its claim on %s (now %s, owner %q)", ErrState, owner, a.ID, a.Status, a.Owner)
		}
		a.Owner, a.LeaseUntil = "", time.Time{}
		switch {
		case xerr == nil:
			a.Status, a.ExecutedAt, a.ExecutedBy, a.LastError = store.ApprovalExecuted, done, owner, ""
		case ctx.Err() != nil: // this gateway is stopping: another one takes it at once
			a.Status, a.ExecutableAt, a.LastError = store.ApprovalScheduled, done, xerr.Error()
		case errors.Is(xerr, ErrTransient) && done.Before(a.ExecuteBy):
			next := done.Add(backoff(s.cfg.RetryBackoff, a.Attempts))
			if next.After(a.ExecuteBy) {
				next = a.ExecuteBy // one last attempt at the deadline
			}
			a.Status, a.ExecutableAt, a.LastError = store.ApprovalScheduled, next, xerr.Error()
		default:
			a.Status, a.LastError = store.ApprovalFailed, xerr.Error()
		}
		return nil, nil
	})
	if err != nil {
		return false, err
	}
	actor := strings.Join(approvers, ",")
	details := map[string]any{"operation": a.Operation, "target": a.Target, "proposer": a.Proposer,
		"approvers": approvers, "executor": owner, "attempt": a.Attempts, "status": final.Status}
	switch final.Status {
	case store.ApprovalExecuted:
		s.record(fctx, actor, "approval.executed", id, audit.OutcomeSuccess, details)
		return true, nil
	case store.ApprovalScheduled:
		details["reason"], details["retryAt"] = xerr.Error(), final.ExecutableAt.Format(time.RFC3339Nano)
		s.record(fctx, actor, "approval.execution_failed", id, audit.OutcomeFailure, details)
	default:
		details["reason"] = xerr.Error()
		s.record(fctx, actor, "approval.failed", id, audit.OutcomeFailure, details)
	}
	return false, nil
}

// backoff is base doubled per earlier attempt, at most MaxRetryBackoff.
func backoff(base time.Duration, attempts int) time.Duration {
	d := base
	for i := 1; i < attempts && d < MaxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, MaxRetryBackoff)
}
