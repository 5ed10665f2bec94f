package gateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/controlplane"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms/broker"
	"github.com/mediaseal/mediaseal/playback/offline"
)

// openControlPlane seeds the config's keys and policies and loads the
// catalog, over the adapters this gateway chose.
func (g *Gateway) openControlPlane(ctx context.Context) error {
	c := offline.ControlPlaneConfig(g.cfg, g.id) // as the operator tools read it
	if g.approvals != nil {                      // WithApprovals (tests): its windows, and its rules to seed
		c.Approvals = *g.approvals
		if g.approvals.Rules != nil {
			c.SeedRules = g.approvals.Rules
		}
	}
	cp, err := controlplane.New(ctx, c, controlplane.Deps{
		Store: g.index, Objects: g.objects, Providers: g.providers, PlatformKey: g.platformRef(),
		Anchor:   func(ctx context.Context) (audit.Anchor, error) { return offline.AuditAnchor(ctx, g.cfg) },
		Exporter: controlplane.Exporter{Playback: g.playback}, Rotated: g.onPool((*broker.Broker).DrainPool), KeyRetired: g.onPool((*broker.Broker).RetirePool),
		Busy: func(id string) bool {
			_, ok := g.spool.Find(id)
			return ok
		},
		Hooks:  g.hooks,
		Logger: g.log,
	})
	var re *controlplane.RepointError
	if errors.As(err, &re) {
		return &config.FieldError{Field: fmt.Sprintf("keys[%d]", re.Index), Value: re.Key, Msg: re.Error()}
	}
	g.cp = cp
	return err
}

// WithApprovals sets the quorum rules, expiry and window (tests shorten them).
func WithApprovals(cfg approvals.Config) Option {
	return func(g *Gateway) { g.approvals = &cfg }
}
