package gateway

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/controlplane"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// quorumRules are the default quorum rules with the config's per-operation
// overrides applied (fields left out keep the default).
func quorumRules(cfg config.Ceremony) map[string]approvals.Rule {
	rules := approvals.DefaultRules()
	for op, o := range maps.All(cfg.Quorum) {
		r, ok := rules[op]
		if !ok { // config validation knows the same operations
			continue
		}
		if o.Approvals > 0 {
			r.Approvals = o.Approvals
		}
		if o.Of > 0 {
			r.Of = o.Of
		}
		if len(o.EligibleRoles) > 0 {
			r.Eligible = append([]string(nil), o.EligibleRoles...)
		}
		if o.Delay != nil {
			r.Delay = o.Delay.D()
		}
		rules[op] = r
	}
	return rules
}

// controlPlaneConfig translates the config file for the control plane.
func (g *Gateway) controlPlaneConfig() controlplane.Config {
	cfg := g.cfg
	c := controlplane.Config{OrgID: cfg.Org.ID, OrgRegion: cfg.Org.Region, GatewayID: g.id, DataDir: cfg.DataDir,
		PlatformKeyID: cfg.KMS.PlatformKey, KMSTimeout: cfg.KMS.Timeout.D(), MaxBodyBytes: int64(cfg.API.MaxBodyBytes),
		AcceptAdminToken: cfg.Ceremony.AcceptAdminToken(), Bootstrap: cfg.Ceremony.Bootstrap(), SweepInterval: cfg.Ceremony.Sweep(),
		SeedRules: quorumRules(cfg.Ceremony), PlatformPlayback: cfg.Ceremony.PlatformPlaybackNeedsQuorum(),
		PlatformPlaybackQuorum: cfg.Ceremony.PlatformPlaybackQuorum, Policies: cfg.Policies,
		SealOptions: []seal.Option{seal.WithMaxChunkSize(int(cfg.Recording.MaxChunkSize)), seal.WithCompression(cfg.Recording.Compression)}}
	if g.approvals != nil { // WithApprovals (tests): its windows, and its rules to seed
		c.Approvals = *g.approvals
		if g.approvals.Rules != nil {
			c.SeedRules = g.approvals.Rules
		}
	}
	c.Quorum = map[string]controlplane.QuorumOverride{}
	for op, o := range cfg.Ceremony.Quorum {
		q := controlplane.QuorumOverride{Approvals: o.Approvals, Of: o.Of, EligibleRoles: o.EligibleRoles}
		if o.Delay != nil {
			d := o.Delay.D()
			q.Delay = &d
		}
		c.Quorum[op] = q
	}
	for _, k := range cfg.Keys {
		c.Keys = append(c.Keys, controlplane.Key{ID: k.ID, Name: k.Name, ProviderType: k.ProviderType, ProviderKeyID: k.ProviderKeyID, Region: k.Region})
	}
	return c
}

// openControlPlane seeds the config's keys and policies and loads the
// catalog, over the adapters this gateway chose.
func (g *Gateway) openControlPlane(ctx context.Context) error {
	cp, err := controlplane.New(ctx, g.controlPlaneConfig(), controlplane.Deps{
		Store: g.index, Objects: g.objects, Providers: g.providers, PlatformKey: g.platformRef(),
		Anchor:   func(ctx context.Context) (audit.Anchor, error) { return NewAuditAnchor(ctx, g.cfg) },
		Exporter: exporter{g.playback}, Rotated: g.rotated,
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
