package api

import (
	"errors"
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/ceremony/audit"
)

// AdminPrincipalID is the principal of the bootstrap admin token. It
// belongs to no one: it never proposes, approves, vetoes or executes a
// quorum-gated operation.
const AdminPrincipalID = "bootstrap-admin"

// CodeGateUnavailable: the gate could not decide (a store read failed),
// so it refused.
const CodeGateUnavailable = "gate_unavailable"

func errAdminInQuorum(op string) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: fmt.Sprintf(
		"the bootstrap admin token never takes part in a quorum (%s): use a service principal's token (mediaseal token)", op)}
}

// gateError keeps an *Error as it is and turns anything else (a store or
// claim failure) into a 503: the gate refuses what it cannot check.
func gateError(s *server, r *http.Request, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	s.log.Error("api: quorum gate cannot decide; refusing", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeGateUnavailable,
		Message: "the quorum gate cannot check this request now; it is refused, try again later"}
}

// refuseGated audits a refusal of the quorum gate (action gate.refused)
// and returns err. The details name the operation, target and reason;
// the request body is never copied into the log.
func (s *server) refuseGated(r *http.Request, ex approvals.Execution, err error) error {
	reason := err.Error()
	var e *Error
	status := http.StatusInternalServerError
	if errors.As(err, &e) {
		status, reason = e.Status, e.Code+": "+e.Message
		if e.Field != "" {
			reason = e.Code + ": " + e.Field + ": " + e.Message
		}
	}
	s.recordRefusal(r, "gate.refused", ex.Target, map[string]any{"operation": ex.Operation, "method": r.Method,
		"path": r.URL.Path, "status": status, "reason": reason})
	return err
}

// recordRefusal appends a refused event for the caller to the audit log.
func (s *server) recordRefusal(r *http.Request, action, target string, details map[string]any) {
	log := s.deps.Ceremony.Audit
	if log == nil {
		return
	}
	p, _ := PrincipalFrom(r.Context())
	if _, err := log.Record(r.Context(), audit.Event{Actor: p.ID, Action: action, Target: target,
		Outcome: audit.OutcomeRefused, Details: details}); err != nil {
		s.log.Error("audit: cannot record a refusal", zap.String("action", action), zap.Error(err))
	}
}

// refuseAdminVote refuses the bootstrap admin token on the approvals
// routes (propose, approve, veto), explicitly and audited.
func (s *server) refuseAdminVote(r *http.Request, action, target string) error {
	if p, _ := PrincipalFrom(r.Context()); p.ID != AdminPrincipalID {
		return nil
	}
	err := errAdminInQuorum(action)
	s.recordRefusal(r, action, target, map[string]any{"reason": err.Message})
	return err
}
