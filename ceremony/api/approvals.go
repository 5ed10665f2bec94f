package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// approvalJSON is a proposal as the API shows it.
type approvalJSON struct {
	ID            string          `json:"id"`
	Operation     string          `json:"operation"`
	Target        string          `json:"target"`
	Parameters    json.RawMessage `json:"parameters"`
	Reason        string          `json:"reason"`
	Canonical     string          `json:"canonical"`
	Digest        string          `json:"digest"`
	Proposer      string          `json:"proposer"`
	Required      int             `json:"required"`
	Pool          int             `json:"pool"`
	EligibleRoles []string        `json:"eligibleRoles"`
	Status        string          `json:"status"`
	Approvals     []voteJSON      `json:"approvals,omitempty"`
	CreatedAt     time.Time       `json:"createdAt"`
	ExpiresAt     time.Time       `json:"expiresAt"`
	ApprovedAt    *time.Time      `json:"approvedAt,omitempty"`
	ExecutableAt  *time.Time      `json:"executableAt,omitempty"`
	ExecuteBy     *time.Time      `json:"executeBy,omitempty"`
	ExecutedAt    *time.Time      `json:"executedAt,omitempty"`
	ExecutedBy    string          `json:"executedBy,omitempty"`
	VetoedBy      string          `json:"vetoedBy,omitempty"`
	VetoReason    string          `json:"vetoReason,omitempty"`
	// ExecutesAt is when the gateway runs a scheduled operation (one with
	// a delay) itself, unless it is vetoed first; after a transient
	// failure, when it retries.
	ExecutesAt *time.Time `json:"executesAt,omitempty"`
	// Executor is the gateway running it now (status EXECUTING).
	Executor  string `json:"executor,omitempty"`
	Attempts  int    `json:"attempts,omitempty"`
	LastError string `json:"lastError,omitempty"`
}

type voteJSON struct {
	Principal string    `json:"principal"`
	Roles     []string  `json:"roles"`
	At        time.Time `json:"at"`
}

func toApprovalJSON(a store.Approval, votes []store.ApprovalVote) approvalJSON {
	var p approvals.Proposal
	_ = json.Unmarshal([]byte(a.Canonical), &p) // stored canonical JSON
	out := approvalJSON{ID: a.ID, Operation: a.Operation, Target: a.Target, Parameters: p.Parameters, Reason: p.Reason,
		Canonical: a.Canonical, Digest: a.Digest, Proposer: a.Proposer, Required: a.Required, Pool: a.Pool,
		EligibleRoles: a.EligibleRoles, Status: a.Status, CreatedAt: a.CreatedAt, ExpiresAt: a.ExpiresAt,
		ApprovedAt: timePtr(a.ApprovedAt), ExecutableAt: timePtr(a.ExecutableAt), ExecuteBy: timePtr(a.ExecuteBy),
		ExecutedAt: timePtr(a.ExecutedAt), ExecutedBy: a.ExecutedBy, VetoedBy: a.VetoedBy, VetoReason: a.VetoReason,
		Executor: a.Owner, Attempts: a.Attempts, LastError: a.LastError}
	if a.Status == store.ApprovalScheduled || a.Status == store.ApprovalExecuting {
		out.ExecutesAt = timePtr(a.ExecutableAt)
	}
	for _, v := range votes {
		out.Approvals = append(out.Approvals, voteJSON{v.Principal, v.Roles, v.At})
	}
	return out
}

// approvalError maps quorum errors to HTTP.
func approvalError(err error) error {
	status, code := 0, ""
	switch {
	case errors.Is(err, approvals.ErrNotFound):
		status, code = http.StatusNotFound, CodeNotFound
	case errors.Is(err, approvals.ErrInvalid):
		status, code = http.StatusBadRequest, CodeInvalidField
	case errors.Is(err, approvals.ErrNotEligible), errors.Is(err, approvals.ErrSelfApproval):
		status, code = http.StatusForbidden, CodeForbidden
	case errors.Is(err, approvals.ErrExpired):
		status, code = http.StatusGone, CodeApprovalExpired
	case errors.Is(err, approvals.ErrDuplicateVote), errors.Is(err, approvals.ErrDigestMismatch),
		errors.Is(err, approvals.ErrState), errors.Is(err, approvals.ErrMismatch),
		errors.Is(err, approvals.ErrNotYet), errors.Is(err, approvals.ErrQuorumImpossible):
		status, code = http.StatusConflict, CodeConflict
	default:
		return err
	}
	return &Error{Status: status, Code: code, Message: err.Error()}
}

// Ceremony error codes.
const (
	CodeApprovalRequired = "approval_required"
	CodeApprovalExpired  = "approval_expired"
)

func (s *server) quorum() (*approvals.Service, error) {
	if q := s.deps.Ceremony.Approvals; q != nil {
		return q, nil
	}
	return nil, errorf(http.StatusNotFound, CodeNotFound, "approvals are not enabled on this gateway")
}

func actor(r *http.Request) approvals.Actor {
	p, _ := PrincipalFrom(r.Context())
	return approvals.Actor{ID: p.ID, Scopes: p.Scopes}
}

func (s *server) propose(w http.ResponseWriter, r *http.Request) error {
	q, err := s.quorum()
	if err != nil {
		return err
	}
	if err := s.refuseAdminVote(r, "approval.propose", ""); err != nil {
		return err
	}
	var req approvals.Proposal
	if err := s.decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if err := s.playbackProposable(r.Context(), req); err != nil {
		return err
	}
	a, err := q.Propose(r.Context(), actor(r), req)
	if err != nil {
		return approvalError(err)
	}
	w.Header().Set("Location", "/api/v2/approvals/"+a.ID)
	writeJSON(w, http.StatusCreated, toApprovalJSON(a, nil))
	return nil
}

var approvalParams = map[string]bool{"status": true, "operation": true, "target": true, "proposer": true, "limit": true, "after": true}

func (s *server) listApprovals(w http.ResponseWriter, r *http.Request) error {
	q, err := s.quorum()
	if err != nil {
		return err
	}
	v := r.URL.Query()
	if err := checkParams(v, approvalParams); err != nil {
		return err
	}
	f := store.ApprovalFilter{Status: v.Get("status"), Operation: v.Get("operation"), Target: v.Get("target"),
		Proposer: v.Get("proposer"), After: v.Get("after"), Limit: DefaultPageSize}
	if f.Limit, err = limitParam(v.Get("limit"), f.Limit); err != nil {
		return err
	}
	list, err := q.List(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]approvalJSON, 0, len(list))
	for _, a := range list {
		out = append(out, toApprovalJSON(a, nil))
	}
	resp := map[string]any{"entities": out}
	if len(list) == f.Limit {
		resp["nextAfter"] = list[len(list)-1].ID
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *server) getApproval(w http.ResponseWriter, r *http.Request) error {
	q, err := s.quorum()
	if err != nil {
		return err
	}
	a, votes, err := q.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return approvalError(err)
	}
	writeJSON(w, http.StatusOK, toApprovalJSON(a, votes))
	return nil
}

func (s *server) approve(w http.ResponseWriter, r *http.Request) error {
	q, err := s.quorum()
	if err != nil {
		return err
	}
	if err := s.refuseAdminVote(r, "approval.approve", r.PathValue("id")); err != nil {
		return err
	}
	var req struct {
		Digest string `json:"digest"`
	}
	if err := s.decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.Digest == "" {
		return fieldError("digest", "name the digest of the proposal you approve (GET /api/v2/approvals/%s)", r.PathValue("id"))
	}
	if _, err := q.Approve(r.Context(), actor(r), r.PathValue("id"), req.Digest); err != nil {
		return approvalError(err)
	}
	a, votes, err := q.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toApprovalJSON(a, votes))
	return nil
}

func (s *server) veto(w http.ResponseWriter, r *http.Request) error {
	q, err := s.quorum()
	if err != nil {
		return err
	}
	if err := s.refuseAdminVote(r, "approval.veto", r.PathValue("id")); err != nil {
		return err
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := s.decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	a, err := q.Veto(r.Context(), actor(r), r.PathValue("id"), req.Reason)
	if err != nil {
		return approvalError(err)
	}
	writeJSON(w, http.StatusOK, toApprovalJSON(a, nil))
	return nil
}

// checkParams refuses unknown or repeated query parameters.
func checkParams(v map[string][]string, known map[string]bool) error {
	for name, vals := range v {
		if !known[name] {
			return &Error{Status: http.StatusBadRequest, Code: CodeUnknownField, Field: name, Message: "unknown query parameter " + strconv.Quote(name)}
		}
		if len(vals) > 1 {
			return fieldError(name, "give it once")
		}
	}
	return nil
}

func limitParam(v string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > store.MaxListLimit {
		return 0, fieldError("limit", "must be 1-%d (got %q)", store.MaxListLimit, v)
	}
	return n, nil
}
