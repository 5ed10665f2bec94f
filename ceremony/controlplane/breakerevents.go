package controlplane

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/events"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/broker"
)

// BreakerEvents wraps the KMS broker's metrics so that each key's circuit
// breaker opening, and closing again, is appended to the events outbox
// (kms.breaker_opened / kms.breaker_closed). A breaker is not store
// state, so the event is appended on its own. The broker reports the
// state after every request; only transitions append, so the store is
// written rarely, and never on the media path (DEKs are fetched apart
// from it).
func (s *Service) BreakerEvents(m broker.Metrics) broker.Metrics {
	return &breakerEvents{Metrics: m, out: s.Events(), log: s.log, gateway: s.cfg.GatewayID, open: map[kms.KeyRef]bool{}}
}

type breakerEvents struct {
	broker.Metrics
	out     *events.Outbox
	log     *zap.Logger
	gateway string

	// mu keeps one key's transitions in order in the outbox; open marks
	// the keys whose breaker opened and has not closed since (a failed
	// half-open probe re-opening it is the same outage).
	mu   sync.Mutex
	open map[kms.KeyRef]bool
}

func (b *breakerEvents) BreakerState(key kms.KeyRef, st broker.State) {
	b.Metrics.BreakerState(key, st)
	b.mu.Lock()
	defer b.mu.Unlock()
	var typ string
	switch {
	case st == broker.Open && !b.open[key]:
		typ, b.open[key] = events.TypeKMSBreakerOpened, true
	case st == broker.Closed && b.open[key]:
		typ = events.TypeKMSBreakerClosed
		delete(b.open, key)
	default:
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// The key reference names the key (provider and id), never material.
	if _, err := b.out.Append(ctx, events.Event{Type: typ, Subject: "kms/" + key.Provider + "/" + key.KeyID,
		OrderKey: "kms:" + key.Provider + "/" + key.KeyID,
		Data:     map[string]any{"provider": key.Provider, "keyId": key.KeyID, "gatewayId": b.gateway}}); err != nil {
		b.log.Warn("events: kms breaker event not appended", zap.String("event", typ), zap.Error(err))
	}
}
