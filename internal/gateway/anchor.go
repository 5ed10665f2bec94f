package gateway

import (
	"context"
	"net/http"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/playback/offline"
)

// scopeAuditRead lets the auditor fetch the latest anchored head.
const scopeAuditRead = "audit:read"

// NewAuditAnchor opens the anchor audit.anchor configures (nil for
// "none"). The operator tools use it too, to verify against it.
func NewAuditAnchor(ctx context.Context, cfg *config.Config) (audit.Anchor, error) {
	return offline.AuditAnchor(ctx, cfg)
}

// auditHeadRoutes mount GET /api/v2/audit/heads/latest: the newest head
// in the anchor, for the auditor to keep a copy of (audit:read).
func (g *Gateway) auditHeadRoutes(mux *http.ServeMux) {
	if g.cp.AuditLog() == nil {
		return
	}
	mux.HandleFunc("GET /api/v2/audit/heads/latest", g.requireScope(scopeAuditRead, func(w http.ResponseWriter, r *http.Request) {
		a, err := NewAuditAnchor(r.Context(), g.cfg)
		if err != nil || a == nil {
			writeError(w, http.StatusNotFound, "no audit anchor is configured", err)
			return
		}
		hs, err := a.Heads(r.Context())
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "cannot read the audit anchor", err)
			return
		}
		if len(hs) == 0 {
			writeError(w, http.StatusNotFound, "nothing anchored yet", nil)
			return
		}
		writeJSON(w, http.StatusOK, hs[len(hs)-1])
	}))
}
