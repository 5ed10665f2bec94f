package approvals

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// Repository is the storage the quorum needs; *store.SQL implements it.
type Repository interface {
	CreateApproval(ctx context.Context, a store.Approval) (store.Approval, error)
	GetApproval(ctx context.Context, id string) (store.Approval, []store.ApprovalVote, error)
	UpdateApproval(ctx context.Context, id string, fn func(a *store.Approval, votes []store.ApprovalVote) (*store.ApprovalVote, error)) (store.Approval, error)
	ListApprovals(ctx context.Context, f store.ApprovalFilter) ([]store.Approval, error)
	GetPrincipal(ctx context.Context, id string) (store.Principal, error)
	ListPrincipals(ctx context.Context) ([]store.Principal, error)
	DueApprovals(ctx context.Context, now time.Time, limit int) ([]store.Approval, error)
	ClaimApproval(ctx context.Context, id, owner string, now, leaseUntil time.Time) (store.Approval, error)
}

var _ Repository = (*store.SQL)(nil)

// Recorder appends audit events; *audit.Log implements it.
type Recorder interface {
	Record(ctx context.Context, ev audit.Event) (store.AuditEntry, error)
}

// Config configures the quorum.
type Config struct {
	// Rules per operation (default DefaultRules()), used when Store is nil.
	Rules map[string]Rule
	// Store, when set, holds the rules: they are read from it at every
	// proposal, veto and execution, and Rules is not used.
	Store RuleRepository
	// Expiry of a proposal without quorum (default DefaultExpiry).
	Expiry time.Duration
	// Window to execute an approved operation (default DefaultWindow).
	Window time.Duration
	// Lease is how long a gateway owns the execution of a scheduled
	// operation it claimed (default DefaultLease); a gateway that dies
	// mid-execution loses it after that and another one retries.
	Lease time.Duration
	// RetryFor is how long after its scheduled time a scheduled operation
	// whose execution failed transiently (KMS unavailable) is retried
	// before it is FAILED (default DefaultRetryFor).
	RetryFor time.Duration
	// RetryBackoff is the first wait before such a retry; it doubles per
	// attempt up to MaxRetryBackoff (default DefaultRetryBackoff).
	RetryBackoff time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Service runs proposals.
type Service struct {
	repo  Repository
	cfg   Config
	audit Recorder
}

// New returns the quorum service; rec may be nil.
func New(repo Repository, cfg Config, rec Recorder) *Service {
	if cfg.Rules == nil {
		cfg.Rules = DefaultRules()
	}
	if cfg.Expiry <= 0 {
		cfg.Expiry = DefaultExpiry
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.RetryFor <= 0 {
		cfg.RetryFor = DefaultRetryFor
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{repo: repo, cfg: cfg, audit: rec}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

func (s *Service) record(ctx context.Context, actor, action, target, outcome string, details map[string]any) {
	if s.audit != nil {
		_, _ = s.audit.Record(ctx, audit.Event{Actor: actor, Action: action, Target: target, Outcome: outcome, Details: details})
	}
}

// Actor is who acts: a principal id and the scopes of its token.
type Actor struct {
	ID     string
	Scopes []string
}

func hasAnyRole(p store.Principal, roles []string) bool {
	for _, r := range p.Roles {
		if slices.Contains(roles, r) {
			return true
		}
	}
	return false
}

// Propose records a proposal of who; the proposer needs the operation's
// own scope, and enough eligible principals must exist.
func (s *Service) Propose(ctx context.Context, who Actor, p Proposal) (store.Approval, error) {
	refuse := func(err error) (store.Approval, error) {
		s.record(ctx, who.ID, "approval.propose", p.Target, audit.OutcomeRefused, map[string]any{"operation": p.Operation, "reason": err.Error()})
		return store.Approval{}, err
	}
	rules, err := s.rules(ctx)
	if err != nil {
		return refuse(err)
	}
	rule, ok := ruleFor(rules, p.Operation)
	if !ok {
		return refuse(fmt.Errorf("%w: unknown operation %q", ErrInvalid, p.Operation))
	}
	if strings.TrimSpace(p.Target) == "" || len(p.Target) > 256 {
		return refuse(fmt.Errorf("%w: target is required (1-256 characters)", ErrInvalid))
	}
	if strings.TrimSpace(p.Reason) == "" || len(p.Reason) > 2000 {
		return refuse(fmt.Errorf("%w: reason is required (1-2000 characters)", ErrInvalid))
	}
	if rule.ProposeScope != "" && !slices.Contains(who.Scopes, rule.ProposeScope) {
		return refuse(fmt.Errorf("%w: proposing %s needs scope %s", ErrNotEligible, p.Operation, rule.ProposeScope))
	}
	canonical, digest, err := CanonicalProposal(p)
	if err != nil {
		return refuse(err)
	}
	if p.Operation == OpQuorum {
		if err := s.checkRuleChange(ctx, rules, who.ID, p); err != nil {
			return refuse(err)
		}
	}
	all, err := s.repo.ListPrincipals(ctx)
	if err != nil {
		return store.Approval{}, err
	}
	pool := 0
	for _, pr := range all {
		if pr.ID != who.ID && !pr.Disabled && pr.Kind == store.PrincipalService && hasAnyRole(pr, rule.Eligible) {
			pool++
		}
	}
	if need := max(rule.Approvals, rule.Of); pool < need {
		return refuse(fmt.Errorf("%w: %s needs %d approvers among %v, only %d exist besides the proposer",
			ErrQuorumImpossible, p.Operation, need, rule.Eligible, pool))
	}
	now := s.now()
	a, err := s.repo.CreateApproval(ctx, store.Approval{Operation: p.Operation, Target: p.Target, Canonical: string(canonical),
		Digest: digest, Proposer: who.ID, Required: rule.Approvals, Pool: pool, EligibleRoles: rule.Eligible,
		Status: store.ApprovalPending, Delay: rule.Delay, CreatedAt: now, ExpiresAt: now.Add(s.cfg.Expiry)})
	if err != nil {
		return store.Approval{}, err
	}
	s.record(ctx, who.ID, "approval.proposed", a.ID, audit.OutcomeSuccess, map[string]any{
		"operation": a.Operation, "target": a.Target, "digest": a.Digest, "required": a.Required, "pool": a.Pool, "reason": p.Reason})
	return a, nil
}

// Get returns a proposal and its votes.
func (s *Service) Get(ctx context.Context, id string) (store.Approval, []store.ApprovalVote, error) {
	a, v, err := s.repo.GetApproval(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return a, v, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return a, v, err
}

// List returns proposals.
func (s *Service) List(ctx context.Context, f store.ApprovalFilter) ([]store.Approval, error) {
	return s.repo.ListApprovals(ctx, f)
}

// update runs fn on proposal id; a proposal found past its deadline is
// marked EXPIRED (and that is kept) before the error is returned.
func (s *Service) update(ctx context.Context, id string, fn func(a *store.Approval, votes []store.ApprovalVote) (*store.ApprovalVote, error)) (store.Approval, error) {
	var expired error
	a, err := s.repo.UpdateApproval(ctx, id, func(a *store.Approval, votes []store.ApprovalVote) (*store.ApprovalVote, error) {
		now := s.now()
		switch {
		case a.Status == store.ApprovalPending && now.After(a.ExpiresAt):
			expired = fmt.Errorf("%w: proposal %s expired at %s without quorum", ErrExpired, a.ID, a.ExpiresAt.Format(time.RFC3339))
		case a.Status == store.ApprovalApproved && !a.ExecuteBy.IsZero() && now.After(a.ExecuteBy):
			expired = fmt.Errorf("%w: the execution window of %s closed at %s", ErrExpired, a.ID, a.ExecuteBy.Format(time.RFC3339))
		}
		if expired != nil {
			a.Status = store.ApprovalExpired
			return nil, nil
		}
		return fn(a, votes)
	})
	if errors.Is(err, store.ErrNotFound) {
		return a, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err == nil && expired != nil {
		s.record(ctx, "system", "approval.expired", id, audit.OutcomeSuccess, map[string]any{"operation": a.Operation, "target": a.Target})
		return a, expired
	}
	return a, err
}

// Approve records who's approval of proposal id, whose digest the
// approver must name (so it approves exactly what it read).
func (s *Service) Approve(ctx context.Context, who Actor, id, digest string) (store.Approval, error) {
	p, err := s.repo.GetPrincipal(ctx, who.ID)
	if err != nil {
		return store.Approval{}, err
	}
	a, err := s.update(ctx, id, func(a *store.Approval, votes []store.ApprovalVote) (*store.ApprovalVote, error) {
		switch {
		case a.Status != store.ApprovalPending:
			return nil, fmt.Errorf("%w: proposal %s is %s; approvals are closed", ErrState, a.ID, a.Status)
		case a.Proposer == who.ID:
			return nil, fmt.Errorf("%w: %s proposed %s", ErrSelfApproval, who.ID, a.ID)
		case p.Kind != store.PrincipalService || !hasAnyRole(p, a.EligibleRoles):
			return nil, fmt.Errorf("%w: approving %s needs one of the roles %v", ErrNotEligible, a.Operation, a.EligibleRoles)
		case digest != a.Digest:
			return nil, fmt.Errorf("%w: %s approves digest %.16s…, the proposal is %.16s…", ErrDigestMismatch, who.ID, digest, a.Digest)
		}
		for _, v := range votes {
			if v.Principal == who.ID {
				return nil, fmt.Errorf("%w: %s approved %s at %s", ErrDuplicateVote, who.ID, a.ID, v.At.Format(time.RFC3339))
			}
		}
		now := s.now()
		if len(votes)+1 >= a.Required {
			a.Status, a.ApprovedAt = store.ApprovalApproved, now
			a.ExecutableAt = now.Add(a.Delay)
			a.ExecuteBy = a.ExecutableAt.Add(s.cfg.Window)
			if a.Delay > 0 {
				// The gateway runs it itself when the delay is over
				// (RunDue); transient failures are retried until ExecuteBy.
				a.Status, a.ExecuteBy = store.ApprovalScheduled, a.ExecutableAt.Add(s.cfg.RetryFor)
			}
		}
		return &store.ApprovalVote{ApprovalID: a.ID, Principal: who.ID, Roles: p.Roles, Digest: digest, At: now}, nil
	})
	if errors.Is(err, store.ErrDuplicate) {
		err = fmt.Errorf("%w: %v", ErrDuplicateVote, err)
	}
	if err != nil {
		s.record(ctx, who.ID, "approval.approve", id, audit.OutcomeRefused, map[string]any{"reason": err.Error()})
		return a, err
	}
	s.record(ctx, who.ID, "approval.approved", id, audit.OutcomeSuccess, map[string]any{
		"operation": a.Operation, "target": a.Target, "digest": digest, "status": a.Status})
	return a, nil
}

// Veto stops a proposal before it runs: while it waits for approvals, or
// any time before a gateway starts executing a scheduled one (during its
// delay, and between retries).
func (s *Service) Veto(ctx context.Context, who Actor, id, reason string) (store.Approval, error) {
	p, err := s.repo.GetPrincipal(ctx, who.ID)
	if err != nil {
		return store.Approval{}, err
	}
	if strings.TrimSpace(reason) == "" {
		return store.Approval{}, fmt.Errorf("%w: a veto needs a reason", ErrInvalid)
	}
	rules, err := s.rules(ctx)
	if err != nil {
		return store.Approval{}, err
	}
	a, err := s.update(ctx, id, func(a *store.Approval, _ []store.ApprovalVote) (*store.ApprovalVote, error) {
		rule, _ := ruleFor(rules, a.Operation)
		switch {
		case !hasAnyRole(p, rule.Vetoers):
			return nil, fmt.Errorf("%w: vetoing %s needs one of the roles %v", ErrNotEligible, a.Operation, rule.Vetoers)
		case a.Status == store.ApprovalPending, a.Status == store.ApprovalScheduled:
		case a.Status == store.ApprovalApproved && s.now().Before(a.ExecutableAt): // approved before scheduling existed
		default:
			return nil, fmt.Errorf("%w: proposal %s is %s and past its delay; it can no longer be vetoed", ErrState, a.ID, a.Status)
		}
		a.Status, a.VetoedBy, a.VetoReason = store.ApprovalVetoed, who.ID, reason
		return nil, nil
	})
	if errors.Is(err, store.ErrConflict) { // a gateway claimed it for execution meanwhile
		err = fmt.Errorf("%w: proposal %s started executing; it can no longer be vetoed", ErrState, id)
	}
	if err != nil {
		s.record(ctx, who.ID, "approval.veto", id, audit.OutcomeRefused, map[string]any{"reason": err.Error()})
		return a, err
	}
	s.record(ctx, who.ID, "approval.vetoed", id, audit.OutcomeSuccess, map[string]any{"operation": a.Operation, "target": a.Target, "reason": reason})
	return a, nil
}

// Execution names what is being executed, to compare with the proposal.
type Execution struct {
	Operation, Target string
	// Parameters, if not nil, must equal the approved parameters
	// canonically.
	Parameters []byte
}

// Claim marks approved proposal id as executed by who, once: who must be
// the proposer, the operation, target and parameters must be the ones
// approved, the delay must be over and the window open. Release undoes a
// claim whose execution failed.
func (s *Service) Claim(ctx context.Context, who Actor, id string, ex Execution) (store.Approval, error) {
	rules, err := s.rules(ctx)
	if err != nil {
		s.record(ctx, who.ID, "approval.execute", id, audit.OutcomeRefused, map[string]any{"operation": ex.Operation, "target": ex.Target, "reason": err.Error()})
		return store.Approval{}, err
	}
	a, err := s.update(ctx, id, func(a *store.Approval, votes []store.ApprovalVote) (*store.ApprovalVote, error) {
		now := s.now()
		switch {
		case a.Operation != ex.Operation || a.Target != ex.Target:
			return nil, fmt.Errorf("%w: proposal %s approves %s on %q, not %s on %q", ErrMismatch, a.ID, a.Operation, a.Target, ex.Operation, ex.Target)
		case a.Status == store.ApprovalExecuted:
			return nil, fmt.Errorf("%w: proposal %s was already executed at %s; approvals are single-use", ErrState, a.ID, a.ExecutedAt.Format(time.RFC3339))
		case a.Status == store.ApprovalScheduled || a.Status == store.ApprovalExecuting:
			return nil, fmt.Errorf("%w: proposal %s is %s: the gateway executes it itself at %s unless it is vetoed (GET /api/v2/approvals/%s)",
				ErrState, a.ID, a.Status, a.ExecutableAt.Format(time.RFC3339), a.ID)
		case a.Status != store.ApprovalApproved:
			return nil, fmt.Errorf("%w: proposal %s is %s, not APPROVED", ErrState, a.ID, a.Status)
		case a.Proposer != who.ID:
			return nil, fmt.Errorf("%w: only the proposer %s executes %s", ErrNotEligible, a.Proposer, a.ID)
		case now.Before(a.ExecutableAt):
			return nil, fmt.Errorf("%w: %s may run from %s (veto period)", ErrNotYet, a.ID, a.ExecutableAt.Format(time.RFC3339))
		}
		if err := stillMet(rules, *a, votes); err != nil {
			return nil, err
		}
		if ex.Parameters != nil {
			want, err := parametersOf(a.Canonical)
			if err != nil {
				return nil, err
			}
			got, err := Canonical(ex.Parameters)
			if err != nil {
				return nil, err
			}
			if string(got) != string(want) {
				return nil, fmt.Errorf("%w: parameters %s were not approved (approved: %s)", ErrMismatch, got, want)
			}
		}
		a.Status, a.ExecutedAt, a.ExecutedBy = store.ApprovalExecuted, now, who.ID
		return nil, nil
	})
	if err != nil {
		s.record(ctx, who.ID, "approval.execute", id, audit.OutcomeRefused, map[string]any{"operation": ex.Operation, "target": ex.Target, "reason": err.Error()})
		return a, err
	}
	s.record(ctx, who.ID, "approval.executed", id, audit.OutcomeSuccess, map[string]any{"operation": a.Operation, "target": a.Target})
	return a, nil
}

// Release returns a claimed proposal to APPROVED because its execution
// failed (it may be retried within the window).
func (s *Service) Release(ctx context.Context, who Actor, id, why string) error {
	_, err := s.repo.UpdateApproval(ctx, id, func(a *store.Approval, _ []store.ApprovalVote) (*store.ApprovalVote, error) {
		if a.Status != store.ApprovalExecuted || a.ExecutedBy != who.ID {
			return nil, fmt.Errorf("%w: %s is %s", ErrState, a.ID, a.Status)
		}
		a.Status, a.ExecutedAt, a.ExecutedBy = store.ApprovalApproved, time.Time{}, ""
		return nil, nil
	})
	s.record(ctx, who.ID, "approval.execution_failed", id, audit.OutcomeFailure, map[string]any{"reason": why})
	return err
}

// ExpireDue marks pending proposals past their expiry as EXPIRED and
// returns how many.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	list, err := s.repo.ListApprovals(ctx, store.ApprovalFilter{Status: store.ApprovalPending})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range list {
		if s.now().After(a.ExpiresAt) {
			if _, err := s.update(ctx, a.ID, func(*store.Approval, []store.ApprovalVote) (*store.ApprovalVote, error) {
				return nil, nil
			}); errors.Is(err, ErrExpired) {
				n++
			}
		}
	}
	return n, nil
}
