package controlplane

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/events"
)

// StorageEvents is the object store's outage hook for the recording life
// cycle: storage.outage_started when uploads start failing as the store
// being down, storage.outage_ended when one succeeds again. The uploader
// calls it with its lock held, so the events are handed to a goroutine of
// their own, which appends them in order (a store outage is not store
// state: each is appended on its own). A hook whose queue is full drops
// the event, logged, rather than hold uploads back.
func (s *Service) StorageEvents() func(down bool) {
	q := make(chan bool, 16)
	out, log, gateway := s.Events(), s.log, s.cfg.GatewayID
	go func() {
		for down := range q {
			typ := events.TypeStorageOutageEnded
			if down {
				typ = events.TypeStorageOutageStarted
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if _, err := out.Append(ctx, events.Event{Type: typ, Subject: "storage/" + gateway, OrderKey: "storage:" + gateway,
				Data: map[string]any{"gatewayId": gateway}}); err != nil {
				log.Warn("events: storage outage event not appended", zap.String("event", typ), zap.Error(err))
			}
			cancel()
		}
	}()
	return func(down bool) {
		select {
		case q <- down:
		default:
			log.Warn("events: storage outage event dropped: queue full", zap.Bool("down", down))
		}
	}
}
