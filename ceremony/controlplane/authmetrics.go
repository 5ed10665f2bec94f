package controlplane

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mediaseal/mediaseal/ceremony/auth"
)

// RegisterMetrics exports the control plane's metrics: failed
// authentications, the audit anchoring (after Open; none before) and the
// delivery of lifecycle events.
func (s *Service) RegisterMetrics(reg prometheus.Registerer) {
	s.registerAuthMetrics(reg)
	s.registerAuditMetrics(reg)
	reg.MustRegister(s.eventMetrics)
	if s.retention != nil {
		reg.MustRegister(s.retention.Collector())
	}
}

// registerAuthMetrics exports mediaseal_auth_failures_total: every failed
// authentication, by kind, including those the audit log aggregates.
func (s *Service) registerAuthMetrics(reg prometheus.Registerer) {
	svc := s.auth
	if svc == nil {
		return
	}
	for _, kind := range []string{auth.FailureBearerToken, auth.FailureClientSecret, auth.FailureAudioHook} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mediaseal_auth_failures_total",
			Help:        "Failed authentications (bad, expired or revoked bearer tokens; wrong client credentials at the token endpoints), by kind.",
			ConstLabels: prometheus.Labels{"kind": kind}}, func() float64 { return float64(svc.Failures(kind)) }))
	}
}
