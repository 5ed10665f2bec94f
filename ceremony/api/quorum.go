package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// CodeRulesUnavailable answers a gated request while the quorum rules
// cannot be read: the gate fails closed.
const CodeRulesUnavailable = "quorum_rules_unavailable"

// quorumRuleJSON is a stored quorum rule as the API shows it.
// Its rule fields are those of the PUT body (approvals.RuleChange).
type quorumRuleJSON struct {
	Operation string `json:"operation"`
	approvals.RuleChange
	Version    int64     `json:"version"`
	UpdatedAt  time.Time `json:"updatedAt"`
	UpdatedBy  string    `json:"updatedBy"`
	ApprovalID string    `json:"approvalId,omitempty"`
}

func toQuorumRuleJSON(r store.QuorumRule) quorumRuleJSON {
	out := quorumRuleJSON{Operation: r.Operation, RuleChange: approvals.RuleChange{Approvals: r.Approvals, Of: r.Of,
		EligibleRoles: r.EligibleRoles, Delay: r.Delay.String(), Vetoers: r.Vetoers},
		Version: r.Version, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy, ApprovalID: r.ApprovalID}
	if r.Operation == approvals.OpPlayback {
		pp := r.PlatformPlayback
		out.PlatformPlayback = &pp
	}
	return out
}

func (s *server) quorumRoutes() []Route {
	return []Route{
		{"GET", "/api/v2/ceremony/quorum", ScopeApprovalsRead, s.listQuorumRules},
		// Gated by the handler itself: what runs is decoded from the
		// claimed proposal, never from the request body.
		{"PUT", "/api/v2/ceremony/quorum/{operation}", ScopeKeyWrite, s.putQuorumRule},
	}
}

// rulesError maps an unreadable rule store to 503: fail closed.
func rulesError(err error) error {
	if errors.Is(err, approvals.ErrRulesUnavailable) {
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeRulesUnavailable, Message: err.Error()}
	}
	return approvalError(err)
}

func (s *server) listQuorumRules(w http.ResponseWriter, r *http.Request) error {
	q, err := s.quorum()
	if err != nil {
		return err
	}
	stored, err := q.StoredRules(r.Context())
	if err != nil {
		return rulesError(err)
	}
	rules, err := q.Rules(r.Context())
	if err != nil {
		return rulesError(err)
	}
	out := make([]quorumRuleJSON, 0, len(stored))
	for _, sr := range stored {
		out = append(out, toQuorumRuleJSON(sr))
	}
	change := rules[approvals.OpQuorum]
	writeJSON(w, http.StatusOK, map[string]any{"rules": out,
		// What a ceremony.quorum change needs now: the strictest rule held.
		"changeRule": map[string]any{"operation": approvals.OpQuorum, "approvals": change.Approvals, "of": change.Of,
			"eligibleRoles": change.Eligible, "vetoers": change.Vetoers}})
	return nil
}

// putQuorumRule replaces the stored rule of an operation with the one an
// approved ceremony.quorum proposal of the caller names (X-Approval-Id).
// The body must equal the approved parameters; the rule written is
// decoded from the proposal.
func (s *server) putQuorumRule(w http.ResponseWriter, r *http.Request) error {
	q, err := s.quorum()
	if err != nil {
		return err
	}
	op := r.PathValue("operation")
	body, err := s.peekBody(r)
	if err != nil {
		return err
	}
	if _, err := approvals.ParseRuleChange(op, body); err != nil {
		s.auditQuorum(r, op, audit.OutcomeRefused, map[string]any{"reason": err.Error()})
		return approvalError(err)
	}
	before, err := q.Rules(r.Context())
	if err != nil {
		s.auditQuorum(r, op, audit.OutcomeRefused, map[string]any{"reason": err.Error()})
		return rulesError(err)
	}
	id := r.Header.Get(HeaderApproval)
	if id == "" {
		change := before[approvals.OpQuorum]
		msg := fmt.Sprintf("PUT %s needs an approved %s proposal for %q (%d approvals among %v): propose it at POST /api/v2/approvals and send its id in %s",
			r.URL.Path, approvals.OpQuorum, op, change.Approvals, change.Eligible, HeaderApproval)
		s.auditQuorum(r, op, audit.OutcomeRefused, map[string]any{"reason": msg})
		return &Error{Status: http.StatusForbidden, Code: CodeApprovalRequired, Message: msg}
	}
	who := actor(r)
	a, err := q.Claim(r.Context(), who, id, approvals.Execution{Operation: approvals.OpQuorum, Target: op, Parameters: body})
	if err != nil {
		return rulesError(err)
	}
	after, err := q.ApplyRuleChange(r.Context(), a, who.ID)
	if err != nil {
		// Give the proposal back; a retry finds the same refusal unless
		// the cause was transient.
		if rerr := q.Release(context.WithoutCancel(r.Context()), who, id, err.Error()); rerr != nil {
			s.log.Error("approval: cannot release after a failed rule change", zap.String("approval", id), zap.Error(rerr))
		}
		s.auditQuorum(r, op, audit.OutcomeFailure, map[string]any{"approval": id, "reason": err.Error()})
		return rulesError(err)
	}
	old := before[op]
	s.auditQuorum(r, op, audit.OutcomeSuccess, map[string]any{"approval": id, "version": after.Version,
		"before": map[string]any{"approvals": old.Approvals, "of": old.Of, "eligibleRoles": old.Eligible,
			"delay": old.Delay.String(), "vetoers": old.Vetoers, "platformPlayback": old.PlatformPlayback},
		"after": toQuorumRuleJSON(after)})
	writeJSON(w, http.StatusOK, toQuorumRuleJSON(after))
	return nil
}

// auditQuorum records a rule change, or its refusal, on a context that
// outlives the request (a client hanging up does not drop the entry).
func (s *server) auditQuorum(r *http.Request, op, outcome string, details map[string]any) {
	log := s.deps.Ceremony.Audit
	if log == nil {
		return
	}
	action := "ceremony.quorum.changed"
	switch outcome {
	case audit.OutcomeRefused:
		action = "ceremony.quorum.refused"
	case audit.OutcomeFailure:
		action = "ceremony.quorum.failed"
	}
	p, _ := PrincipalFrom(r.Context())
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	if _, err := log.Record(ctx, audit.Event{Actor: p.ID, Action: action, Target: op, Outcome: outcome, Details: details}); err != nil {
		s.log.Error("audit: cannot record", zap.String("event", action), zap.Error(err))
	}
}

// platformPlaybackNeedsQuorum reads from the rules in force whether
// platform-key recordings need the playback quorum; an error refuses.
func (s *server) platformPlaybackNeedsQuorum(ctx context.Context) (bool, error) {
	rules, err := s.deps.Ceremony.Approvals.Rules(ctx)
	if err != nil {
		return true, rulesError(err)
	}
	return rules[approvals.OpPlayback].PlatformPlayback, nil
}
