package offline

import (
	"context"
	"fmt"
	"maps"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/audit/s3anchor"
	"github.com/mediaseal/mediaseal/ceremony/controlplane"
	"github.com/mediaseal/mediaseal/cluster"
	"github.com/mediaseal/mediaseal/internal/config"
	s3store "github.com/mediaseal/mediaseal/storage/s3"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// ControlPlane opens the control plane of cfg over these stores, as far
// as an operator tool needs it: the stored quorum rules and the audit
// log. An offline export is gated and audited by the same rules as the
// gateway's API, so it reads them from the shared store through the same
// code (it seeds the config's keys and policies first, as a starting
// gateway does, under the same lock).
func (s *Stores) ControlPlane(ctx context.Context, cfg *config.Config) (*controlplane.Service, error) {
	id, err := cluster.ResolveID(cfg.Gateway.ID, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	return controlplane.New(ctx, ControlPlaneConfig(cfg, id), controlplane.Deps{
		Store: s.Index, Providers: s.providers, PlatformKey: s.Platform,
		Anchor: func(ctx context.Context) (audit.Anchor, error) { return AuditAnchor(ctx, cfg) },
	})
}

// ControlPlaneConfig translates the config file for the control plane of
// the gateway named gatewayID. The gateway and the operator tools share
// it, so that both read the quorum the same config names.
func ControlPlaneConfig(cfg *config.Config, gatewayID string) controlplane.Config {
	c := controlplane.Config{OrgID: cfg.Org.ID, OrgRegion: cfg.Org.Region, AuditPinnedKeysFile: cfg.Audit.PinnedKeysFile, CallerRegion: cfg.Org.CallerRegion, GatewayID: gatewayID, DataDir: cfg.DataDir,
		PlatformKeyID: cfg.KMS.PlatformKey, KMSTimeout: cfg.KMS.Timeout.D(), MaxBodyBytes: int64(cfg.API.MaxBodyBytes),
		AcceptAdminToken: cfg.Ceremony.AcceptAdminToken(), Bootstrap: cfg.Ceremony.Bootstrap(), SweepInterval: cfg.Ceremony.Sweep(),
		RetentionInterval: cfg.Recording.RetentionSweepInterval.D(), RetentionDays: cfg.Recording.RetentionDays,
		SeedRules: quorumRules(cfg.Ceremony), PlatformPlayback: cfg.Ceremony.PlatformPlaybackNeedsQuorum(),
		PlatformPlaybackQuorum: cfg.Ceremony.PlatformPlaybackQuorum, Policies: cfg.Policies,
		SealOptions: []seal.Option{seal.WithMaxChunkSize(int(cfg.Recording.MaxChunkSize)), seal.WithCompression(cfg.Recording.Compression)}}
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

// AuditAnchor opens the audit anchor cfg names (nil, nil: none).
func AuditAnchor(ctx context.Context, cfg *config.Config) (audit.Anchor, error) {
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
