package gateway

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/policy"
)

// policyRefresh is how often a gateway reloads policies and keys from the
// shared store, so a change made through any gateway applies to the next
// session everywhere.
const policyRefresh = 2 * time.Second

// catalog is the live view of policies and registered keys: config entries
// (seeded into the store on first start) plus whatever the control-plane
// API has added. Sessions read it lock-free.
type catalog struct {
	policies atomic.Pointer[policy.Set]
	keys     atomic.Pointer[map[string]kms.KeyRef] // registered key id → provider reference
	// unusable maps the provider reference of every registered key whose
	// registry state is not ENABLED (DISABLED, PENDING_DELETION,
	// DESTROYED) to that state: new sessions never ask for its DEKs.
	unusable atomic.Pointer[map[kms.KeyRef]string]
	// registry is each key as policy.ResolveKey needs it (keyresolve.go).
	registry atomic.Pointer[map[string]policy.RegisteredKey]
}

// refreshCatalog rebuilds the policy set and key map from the store. A
// store policy that no longer validates (e.g. names a key whose provider
// is not enabled here) is skipped and logged, never fatal.
func (g *Gateway) refreshCatalog(ctx context.Context) error {
	stored, err := g.index.ListPolicies(ctx)
	if err != nil {
		return err
	}
	ps := make([]policy.Policy, 0, len(stored))
	for _, sp := range stored {
		ps = append(ps, sp.Policy)
	}
	set, err := policy.LiveSet(ps, func(p policy.Policy, err error) {
		g.log.Warn("stored policy skipped", zap.String("policy", p.ID), zap.Error(err))
	})
	if err != nil {
		return err
	}
	keys := map[string]kms.KeyRef{}
	stKeys, err := g.index.ListKeys(ctx)
	if err != nil {
		return err
	}
	unusable := map[kms.KeyRef]string{}
	for _, k := range stKeys {
		if name, ok := providerByType[k.KeyType]; ok {
			keys[k.ID] = kms.KeyRef{Provider: name, KeyID: k.Ref}
			if k.State != string(kms.StateEnabled) {
				unusable[keys[k.ID]] = k.State
			}
		}
	}
	for _, k := range g.cfg.Keys { // only the platform key: any other config key is in the registry (configseed.go)
		if g.isPlatformConfigKey(k) {
			keys[k.ID] = kms.KeyRef{Provider: providerByType[k.ProviderType], KeyID: k.ProviderKeyID}
		}
	}
	g.catalog.policies.Store(set)
	g.catalog.keys.Store(&keys)
	g.catalog.unusable.Store(&unusable)
	g.catalog.registry.Store(g.registryView(stKeys))
	return nil
}

func (g *Gateway) refreshLoop(ctx context.Context) {
	t := time.NewTicker(policyRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := g.refreshCatalog(ctx); err != nil && ctx.Err() == nil {
				g.log.Warn("policy refresh failed; keeping the previous set", zap.Error(err))
			}
		}
	}
}

// controlPlane is the /api/v2 handler. After any successful change the
// catalog is refreshed at once, so this gateway applies it to its very
// next session.
func (g *Gateway) controlPlane(adminToken string) http.Handler {
	authz := g.apiAuthorizer
	if authz == nil {
		authz = api.BootstrapToken(adminToken)
	}
	st, cer := g.apiDeps()
	h := api.New(api.Deps{Store: st, KMS: g.providers, OrgRegion: g.cfg.Org.Region, Authorizer: authz,
		Logger: g.log, MaxBodyBytes: int64(g.cfg.API.MaxBodyBytes), DescribeTimeout: g.cfg.KMS.Timeout.D(),
		Ceremony: cer, Jobs: g.jobsAPI(), PlatformKeyID: g.cfg.KMS.PlatformKey})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := g.refreshCatalog(r.Context()); err != nil {
				g.log.Warn("policy refresh after change failed", zap.Error(err))
			}
		}
	})
}
