package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/internal/approvals"
)

// platformProvider is the kms.KeyRef provider name of the platform
// keyring (kms/local.ProviderName).
const platformProvider = "local"

// errAbort means a streaming handler failed after sending part of the
// body: the connection is aborted so the client never takes a short
// export for a whole one.
var errAbort = errors.New("api: response aborted")

// runGated runs a route's handler behind its quorum gate: a route whose
// operation needs an approval runs only with the id of an approved
// proposal of the caller in X-Approval-Id that names this operation,
// target and parameters; the proposal is claimed (single use) before the
// handler runs and released again if the handler fails.
func (s *server) runGated(rt Route, w http.ResponseWriter, r *http.Request) error {
	q := s.deps.Ceremony.Approvals
	if q == nil {
		return rt.handle(w, r)
	}
	ex, need, err := s.gateFor(rt, r)
	if err != nil || !need {
		if err != nil {
			return err
		}
		return rt.handle(w, r)
	}
	id := r.Header.Get(HeaderApproval)
	if id == "" {
		return &Error{Status: http.StatusForbidden, Code: CodeApprovalRequired, Message: fmt.Sprintf(
			"%s %s needs an approved %s proposal for %q: propose it at POST /api/v2/approvals and send its id in %s",
			r.Method, r.URL.Path, ex.Operation, ex.Target, HeaderApproval)}
	}
	who := actor(r)
	if _, err := q.Claim(r.Context(), who, id, ex); err != nil {
		return approvalError(err)
	}
	sw := &statusWriter{ResponseWriter: w}
	herr := rt.handle(sw, r)
	if herr == nil && sw.status < 300 {
		return nil
	}
	why := fmt.Sprintf("status %d", sw.status)
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

// statusWriter remembers the status a handler sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// gateFor says whether the request needs an approval and what it
// executes. Requests that will fail anyway (unknown ids, bad JSON) pass
// through ungated so the handler's error, not a claimed approval, answers.
func (s *server) gateFor(rt Route, r *http.Request) (approvals.Execution, bool, error) {
	switch rt.Method + " " + rt.Pattern {
	case "POST /api/v2/keys/{keyId}":
		body, err := s.peekBody(r)
		if err != nil {
			return approvals.Execution{}, false, err
		}
		params := body
		if len(bytes.TrimSpace(params)) == 0 {
			params = []byte("{}")
		}
		if _, err := approvals.Canonical(params); err != nil {
			return approvals.Execution{}, false, nil
		}
		return approvals.Execution{Operation: approvals.OpKeyBind, Target: r.PathValue("keyId"), Parameters: params}, true, nil
	case "POST /api/v2/keys/{keyId}/disable":
		return approvals.Execution{Operation: approvals.OpKeyDisable, Target: r.PathValue("keyId")}, true, nil
	case "POST /api/v2/keys/{keyId}/deletion":
		return approvals.Execution{Operation: approvals.OpKeyDelete, Target: r.PathValue("keyId")}, true, nil
	case "POST /api/v2/recordings/policies", "PUT /api/v2/recordings/policies/{id}", "DELETE /api/v2/recordings/policies/{id}":
		return s.policyGate(r)
	case "GET /api/v2/recordings/{id}/{part}":
		if r.PathValue("part") != "media" {
			return approvals.Execution{}, false, nil
		}
		rec, err := s.deps.Store.GetRecording(r.Context(), r.PathValue("id"))
		if err != nil {
			return approvals.Execution{}, false, nil
		}
		c := s.deps.Ceremony
		platform := rec.KeyProvider == platformProvider && (c.PlatformKeyID == "" || rec.KeyID == c.PlatformKeyID)
		if platform {
			if need, err := s.platformPlaybackNeedsQuorum(r.Context()); err != nil || !need {
				return approvals.Execution{}, false, err
			}
		}
		return approvals.Execution{Operation: approvals.OpPlayback, Target: rec.ID}, true, nil
	}
	return approvals.Execution{}, false, nil
}

// peekBody reads the body (up to the limit) and puts it back for the handler.
func (s *server) peekBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, s.deps.MaxBodyBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > s.deps.MaxBodyBytes {
		return nil, errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "request body is larger than %d bytes", s.deps.MaxBodyBytes)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}
