package controlplane

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// auditAnchorOptions adds the configured anchor to opts: every signed
// head is published to it; a failure is logged and counted here, and the
// log retries the head while /readyz reports the gateway not ready.
func (s *Service) auditAnchorOptions(ctx context.Context, opts audit.Options) (audit.Options, error) {
	var a audit.Anchor
	var err error
	if s.deps.Anchor != nil {
		a, err = s.deps.Anchor(ctx)
	}
	if err != nil || a == nil {
		if a == nil && err == nil {
			s.log.Warn("audit.anchor.backend is none: signed heads stay in the database, whose holder can cut the log's tail unnoticed")
		}
		return opts, err
	}
	opts.Anchor = a
	opts.OnAnchorError = func(head store.AuditCheckpoint, err error) {
		s.log.Error("audit: cannot anchor a signed head; retrying", zap.Int64("seq", head.Seq), zap.Stringer("anchor", a), zap.Error(err))
	}
	return opts, nil
}

// AnchorCheck is the readiness check of the anchor: not ready while a
// signed head waits to be anchored.
func (s *Service) AnchorCheck() (string, bool) {
	if s.audit == nil {
		return "off", true
	}
	if err := s.audit.AnchorErr(); err != nil {
		return err.Error(), false
	}
	return "ok", true
}

// registerAuditMetrics exports the anchoring counters.
func (s *Service) registerAuditMetrics(reg prometheus.Registerer) {
	l := s.audit
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
