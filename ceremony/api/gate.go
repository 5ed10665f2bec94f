package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/kms"
)

// errAbort means a streaming handler failed after sending part of the
// body: the connection is aborted so the client never takes a short
// export for a whole one.
var errAbort = errors.New("api: response aborted")

// policiesPath is the prefix of the policy routes.
const policiesPath = "/api/v2/recordings/policies"

// runGated runs a route's handler behind its quorum gate: a route whose
// operation needs an approval runs only with the id of an approved
// proposal of the caller in X-Approval-Id that names this operation,
// target and parameters; the proposal is claimed (single use) before the
// handler runs and released again if the handler fails. The body is read
// once, here: the gate and the handler decode the same bytes with the
// same strict reader. Every refusal of the gate is an error response and
// an audit entry; a gate that cannot decide refuses (fail closed).
func (s *server) runGated(rt Route, w http.ResponseWriter, r *http.Request) error {
	r, err := s.withVerifiedBody(r)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(rt.Pattern, policiesPath) || rt.Method == http.MethodGet {
		return s.gateAndRun(rt, w, r)
	}
	// One policy write at a time, in this gateway and across the gateways
	// sharing the store: the effect gate judges a write against the set it
	// reads, so two writes harmless alone must not interleave.
	s.policyWrites.Lock()
	defer s.policyWrites.Unlock()
	l, ok := s.deps.Store.(storeLocker)
	if !ok {
		return s.gateAndRun(rt, w, r)
	}
	ran := false
	var out error
	err = l.WithLock(r.Context(), store.LockPolicyWrites, func(context.Context) error {
		ran = true
		out = s.gateAndRun(rt, w, r)
		return nil
	})
	switch {
	case err != nil && !ran:
		return errorf(http.StatusServiceUnavailable, CodeGateUnavailable, "policy writes cannot be serialised across gateways now: %v", err)
	case err != nil:
		s.log.Error("policy write lock: cannot release", zap.Error(err))
	}
	return out
}

// storeLocker is a store with store-wide named locks (store.SQL.WithLock).
type storeLocker interface {
	WithLock(ctx context.Context, name string, fn func(context.Context) error) error
}

// gateAndRun is runGated's gate and handler, on the verified body.
func (s *server) gateAndRun(rt Route, w http.ResponseWriter, r *http.Request) error {
	q := s.deps.Ceremony.Approvals
	if q == nil {
		return rt.handle(w, r)
	}
	ex, need, err := s.gateFor(rt, r)
	if err != nil {
		return s.refuseGated(r, ex, gateError(s, r, err))
	}
	if !need {
		return rt.handle(w, r)
	}
	who := actor(r)
	if who.ID == AdminPrincipalID {
		return s.refuseGated(r, ex, errAdminInQuorum(ex.Operation))
	}
	id := r.Header.Get(HeaderApproval)
	if id == "" {
		return s.refuseGated(r, ex, &Error{Status: http.StatusForbidden, Code: CodeApprovalRequired, Message: fmt.Sprintf(
			"%s %s needs an approved %s proposal for %q: propose it at POST /api/v2/approvals and send its id in %s",
			r.Method, r.URL.Path, ex.Operation, ex.Target, HeaderApproval)})
	}
	// A failed claim is audited by the approvals service (approval.execute refused).
	if _, err := q.Claim(r.Context(), who, id, ex); err != nil {
		return gateError(s, r, approvalError(err))
	}
	sw := httpx.NewStatusRecorder(w)
	herr := rt.handle(sw, r)
	if herr == nil && sw.Status() < 300 {
		return nil
	}
	why := fmt.Sprintf("status %d", sw.Status())
	if herr != nil {
		why = herr.Error()
	}
	if err := q.Release(r.Context(), who, id, why); err != nil {
		s.log.Error("approval: cannot release after a failed execution", zap.String("approval", id), zap.Error(err))
	}
	if errors.Is(herr, errAbort) {
		panic(http.ErrAbortHandler)
	}
	return herr
}

// gateFor says whether the request needs an approval and what it
// executes. It never answers "no approval needed" because it could not
// tell: a body the strict reader refuses is a 400, a recording it cannot
// read a 404 (not found) or 503, and the refusal names the operation.
func (s *server) gateFor(rt Route, r *http.Request) (approvals.Execution, bool, error) {
	switch rt.Method + " " + rt.Pattern {
	case "POST /api/v2/keys/{keyId}":
		ex := approvals.Execution{Operation: approvals.OpKeyBind, Target: r.PathValue("keyId")}
		body, err := s.peekBody(r)
		if err != nil {
			return ex, false, err
		}
		ex.Parameters = body
		if len(bytes.TrimSpace(body)) == 0 {
			ex.Parameters = []byte("{}")
		} else if err := strictUnmarshal(body, &bindKeyRequest{}); err != nil {
			return ex, false, err
		}
		if _, err := approvals.Canonical(ex.Parameters); err != nil {
			return ex, false, errorf(http.StatusBadRequest, CodeMalformedJSON, "request body refused: %v", err)
		}
		return ex, true, nil
	case "POST /api/v2/keys/{keyId}/disable":
		return approvals.Execution{Operation: approvals.OpKeyDisable, Target: r.PathValue("keyId")}, true, nil
	case "POST /api/v2/keys/{keyId}/deletion":
		return approvals.Execution{Operation: approvals.OpKeyDelete, Target: r.PathValue("keyId")}, true, nil
	case "POST /api/v2/legal-holds/{id}/release":
		return approvals.Execution{Operation: approvals.OpLegalHoldRelease, Target: r.PathValue("id")}, true, nil
	case "POST /api/v2/recordings/policies", "PUT /api/v2/recordings/policies/{id}", "DELETE /api/v2/recordings/policies/{id}":
		return s.policyGate(r)
	case "GET /api/v2/recordings/{id}/{part}":
		if r.PathValue("part") != "media" {
			return approvals.Execution{}, false, nil
		}
		return s.playbackGate(r)
	}
	return approvals.Execution{}, false, nil
}

// playbackGate: every playback needs a quorum unless the recording is,
// as read whole from the store, under the platform key and platform
// playback is configured to need none.
func (s *server) playbackGate(r *http.Request) (approvals.Execution, bool, error) {
	id := r.PathValue("id")
	ex := approvals.Execution{Operation: approvals.OpPlayback, Target: id}
	rec, err := s.deps.Store.GetRecording(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ex, false, errorf(http.StatusNotFound, CodeNotFound, "recording %q not found", id)
	case err != nil:
		return ex, false, fmt.Errorf("reading recording %q: %w", id, err) // 503 by gateError
	case rec.ID != id || rec.KeyProvider == "" || rec.KeyID == "":
		return ex, false, fmt.Errorf("recording %q read without its key (id %q, provider %q)", id, rec.ID, rec.KeyProvider)
	}
	c := s.deps.Ceremony
	platform := kms.KeyRef{Provider: c.PlatformProvider, KeyID: c.PlatformKeyID}.Names(rec.KeyProvider, rec.KeyID)
	if platform {
		need, err := s.platformPlaybackNeedsQuorum(r.Context())
		if err != nil {
			return ex, false, err
		}
		return ex, need, nil
	}
	return ex, true, nil
}

type verifiedBodyKey struct{}

// withVerifiedBody reads the body once (up to the limit) into the request
// context: the gate checks these bytes and the handler decodes them.
func (s *server) withVerifiedBody(r *http.Request) (*http.Request, error) {
	b, err := s.peekBody(r)
	if err != nil {
		return r, err
	}
	return r.WithContext(context.WithValue(r.Context(), verifiedBodyKey{}, b)), nil
}

// peekBody returns the body read by withVerifiedBody, or reads it (up to
// the limit) and puts it back for the handler.
func (s *server) peekBody(r *http.Request) ([]byte, error) {
	if b, ok := r.Context().Value(verifiedBodyKey{}).([]byte); ok {
		return b, nil
	}
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, s.deps.MaxBodyBytes+1))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, CodeBadRequest, "cannot read the request body: %v", err)
	}
	if int64(len(b)) > s.deps.MaxBodyBytes {
		return nil, errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "request body is larger than %d bytes", s.deps.MaxBodyBytes)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}
