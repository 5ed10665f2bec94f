package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/events"
)

// Events is the lifecycle-event outbox of the control-plane store
// (subscriptions, dead letters, replay; ceremony/events).
func (s *Service) Events() *events.Outbox {
	o := events.New(s.st.DB(), s.st.Dialect())
	if p := s.deps.Providers[s.deps.PlatformKey.Provider]; p != nil {
		o.Secrets = webhookSecrets{provider: p, key: s.deps.PlatformKey}
	}
	return o
}

// deliverEvents runs this gateway's webhook worker until ctx ends. Every
// gateway on a shared store runs one; leases make each delivery one
// gateway's. The owner carries a random instance so a restarted gateway
// never mistakes its predecessor's leases for its own.
func (s *Service) deliverEvents(ctx context.Context) {
	inst := make([]byte, 6)
	_, _ = rand.Read(inst)
	w := &events.Worker{Outbox: s.Events(), Owner: s.cfg.GatewayID + "/" + hex.EncodeToString(inst),
		Logger: s.log.With(zap.String("component", "events")), Metrics: s.eventMetrics}
	if err := w.Run(ctx); err != nil {
		s.log.Error("events: delivery worker stopped", zap.Error(err))
	}
}
