package controlplane

import (
	"net/http"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/httpx"
)

// scopeAuditRead lets the auditor fetch the latest anchored head.
const scopeAuditRead = "audit:read"

// AuditHeadRoutes mounts GET /api/v2/audit/heads/latest: the newest head
// in the anchor, for the auditor to keep a copy of (audit:read, authorized
// by a: the gateway's own tokens).
func (s *Service) AuditHeadRoutes(mux *http.ServeMux, a httpx.Authorizer) {
	if s.AuditLog() == nil {
		return
	}
	mux.Handle("GET /api/v2/audit/heads/latest", httpx.RequireScope(a, scopeAuditRead, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var an audit.Anchor
		var err error
		if s.deps.Anchor != nil {
			an, err = s.deps.Anchor(r.Context())
		}
		if err != nil || an == nil {
			headsError(w, http.StatusNotFound, httpx.CodeNotFound, "no audit anchor is configured", err)
			return
		}
		hs, err := an.Heads(r.Context())
		if err != nil {
			headsError(w, http.StatusServiceUnavailable, httpx.CodeUnavailable, "cannot read the audit anchor", err)
			return
		}
		if len(hs) == 0 {
			headsError(w, http.StatusNotFound, httpx.CodeNotFound, "nothing anchored yet", nil)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, hs[len(hs)-1])
	})))
}

// headsError writes the one error body; detail, when given, ends the
// message.
func headsError(w http.ResponseWriter, status int, code, msg string, detail error) {
	if detail != nil {
		msg += ": " + detail.Error()
	}
	httpx.WriteJSON(w, status, &httpx.Error{Status: status, Code: code, Message: msg})
}
