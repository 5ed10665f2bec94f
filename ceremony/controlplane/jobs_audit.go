package controlplane

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/jobs"
)

// auditJobEvent appends a jobs event (re-encryption, rotation, shredding)
// to the hash-chained audit log when the ceremony has opened it.
func (s *Service) auditJobEvent(ctx context.Context, e jobs.Event) {
	if s.audit == nil {
		return
	}
	actor := e.Actor
	if actor == "" {
		actor = "system"
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := s.audit.Record(actx, audit.Event{Actor: actor, Action: e.Action, Target: e.Target, Outcome: e.Outcome, Details: e.Details}); err != nil {
		s.log.Error("audit: cannot record jobs event", zap.String("action", e.Action), zap.Error(err))
	}
}
