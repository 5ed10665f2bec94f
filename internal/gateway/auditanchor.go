package gateway

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/audit/s3anchor"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	s3store "github.com/mediaseal/mediaseal/storage/s3"
)

// scopeAuditRead lets the auditor fetch the latest anchored head.
const scopeAuditRead = "audit:read"

// NewAuditAnchor opens the anchor audit.anchor configures (nil for
// "none"). The operator tools use it too, to verify against it.
func NewAuditAnchor(ctx context.Context, cfg *config.Config) (audit.Anchor, error) {
	an := cfg.Audit.Anchor
	switch an.Backend {
	case "none":
		return nil, nil
	case "s3":
		s := an.S3
		a, err := s3anchor.New(ctx, s3store.Config{Bucket: s.Bucket, Region: s.Region, Endpoint: s.Endpoint, PathStyle: s.PathStyle,
			AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey}, s.Prefix, s.Retention.D())
		if err != nil {
			return nil, fmt.Errorf("audit.anchor.s3: %w", err)
		}
		return a, nil
	default:
		return audit.NewFileAnchor(cfg.AuditAnchorPath(), an.File.AppendOnlyFlag), nil
	}
}

// auditAnchorOptions adds the configured anchor to opts: every signed
// head is published to it; a failure is logged and counted here, and the
// log retries the head while /readyz reports the gateway not ready.
func (g *Gateway) auditAnchorOptions(ctx context.Context, opts audit.Options) (audit.Options, error) {
	a, err := NewAuditAnchor(ctx, g.cfg)
	if err != nil || a == nil {
		if a == nil && err == nil {
			g.log.Warn("audit.anchor.backend is none: signed heads stay in the database, whose holder can cut the log's tail unnoticed")
		}
		return opts, err
	}
	opts.Anchor = a
	opts.OnAnchorError = func(head store.AuditCheckpoint, err error) {
		g.log.Error("audit: cannot anchor a signed head; retrying", zap.Int64("seq", head.Seq), zap.Stringer("anchor", a), zap.Error(err))
	}
	return opts, nil
}

// auditAnchorCheck is the readiness check of the anchor: not ready while
// a signed head waits to be anchored.
func (g *Gateway) auditAnchorCheck() (string, bool) {
	if g.cer.audit == nil {
		return "off", true
	}
	if err := g.cer.audit.AnchorErr(); err != nil {
		return err.Error(), false
	}
	return "ok", true
}

// registerAuditMetrics exports the anchoring counters.
func (g *Gateway) registerAuditMetrics(reg prometheus.Registerer) {
	l := g.cer.audit
	if l == nil {
		return
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mediaseal_audit_heads_anchored_total",
			Help: "Signed audit heads published to the anchor outside the database."}, func() float64 { return float64(l.AnchorStats().Published) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mediaseal_audit_anchor_failures_total",
			Help: "Failed attempts to publish a signed audit head to the anchor (each is retried)."}, func() float64 { return float64(l.AnchorStats().Failures) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mediaseal_audit_anchor_pending",
			Help: "1 while a signed audit head waits to be anchored."}, func() float64 {
			if l.AnchorStats().Pending {
				return 1
			}
			return 0
		}),
	)
}

// auditHeadRoutes mount GET /api/v2/audit/heads/latest: the newest head
// in the anchor, for the auditor to keep a copy of (audit:read).
func (g *Gateway) auditHeadRoutes(mux *http.ServeMux) {
	if g.cer.audit == nil {
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
