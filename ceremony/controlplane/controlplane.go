package controlplane

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/auth"
	"github.com/mediaseal/mediaseal/ceremony/events"
	"github.com/mediaseal/mediaseal/ceremony/jobs"
	"github.com/mediaseal/mediaseal/ceremony/retention"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// PolicyRefresh is how often a gateway reloads policies and keys from the
// shared store, so a change made through any gateway applies to the next
// session everywhere.
const PolicyRefresh = 2 * time.Second

// Config is what the control plane needs from the gateway's configuration,
// as plain values (the gateway translates its config file into it).
type Config struct {
	OrgID, OrgRegion string
	// AuditPinnedKeysFile holds the audit checkpoint keys the auditor
	// exported (audit.ReadPinnedKeys): the API's verification uses them
	// instead of the database's ("" : the database's).
	AuditPinnedKeysFile string
	// CallerRegion reads national caller numbers in a recordings search.
	CallerRegion string
	// GatewayID names this gateway in the audit log and in its claims on
	// jobs and scheduled operations.
	GatewayID string
	// DataDir receives the first principals' client credentials.
	DataDir string
	// PlatformKeyID is kms.platformKey: the config id of the platform key.
	PlatformKeyID string
	KMSTimeout    time.Duration
	MaxBodyBytes  int64
	// AcceptAdminToken lets the bootstrap admin token call the API
	// (ceremony.adminToken).
	AcceptAdminToken bool
	// Bootstrap creates the first principals on first start.
	Bootstrap     bool
	SweepInterval time.Duration
	// RetentionInterval is the time between retention sweeps (default
	// retention.DefaultInterval).
	RetentionInterval time.Duration
	// RetentionDays is recording.retentionDays, the organisation default.
	RetentionDays int
	// Approvals sets the quorum's expiry and windows (its Rules are
	// ignored: the rules live in the store, seeded from SeedRules).
	Approvals approvals.Config
	// SeedRules are the quorum rules the first gateway on an empty store
	// seeds (the defaults with the config's overrides).
	SeedRules map[string]approvals.Rule
	// PlatformPlayback is whether platform-key recordings need the
	// playback quorum, as seeded.
	PlatformPlayback bool
	// Quorum and PlatformPlaybackQuorum are the quorum values the config
	// names: a gateway whose config disagrees with the store is refused.
	Quorum                 map[string]QuorumOverride
	PlatformPlaybackQuorum *bool
	// Keys and Policies are the config file's, seeded as configseed.go says.
	Keys        []Key
	Policies    []policy.Policy
	SealOptions []seal.Option
}

// QuorumOverride is one operation's quorum values a config names (zero:
// not named).
type QuorumOverride struct {
	Approvals, Of int
	EligibleRoles []string
	Delay         *time.Duration
}

// Key is a key the config file declares.
type Key struct {
	ID, Name, ProviderType, ProviderKeyID, Region string
}

// Deps are the parts the gateway assembled for the control plane; the
// concrete adapters (KMS, object store, anchor, exporter) are its choice.
type Deps struct {
	Store   *store.SQL
	Objects storage.Store
	// Providers are the open key providers, found by name or key type.
	Providers kms.Registry
	// Rotated, when set, hears of each key rotation (the gateway drops
	// the DEKs it pooled under the old version).
	Rotated func(kms.KeyRef)
	// KeyRetired, when set, hears at every catalog refresh of each key
	// that is not usable (disabled, scheduled for deletion, shredded, here
	// or through another gateway sharing the store) and of each that left
	// the registry: the gateway drops the DEKs it pooled under it, whose
	// plaintext it would otherwise keep. It must be cheap and idempotent.
	KeyRetired func(kms.KeyRef)
	// PlatformKey is the platform key as its provider names it.
	PlatformKey kms.KeyRef
	// Anchor opens the configured audit anchor (nil: none).
	Anchor func(ctx context.Context) (audit.Anchor, error)
	// Exporter streams a recording for the playback endpoint.
	Exporter api.Exporter
	// Busy reports whether a recording is still in the spool (jobs skip it).
	Busy   func(recordingID string) bool
	Hooks  APIHooks
	Logger *zap.Logger
}

// Service is the control plane of the ceremony on one gateway: the live
// catalog of policies and keys, the token service, the quorum, the audit
// log, the jobs and the /api/v2 handler.
type Service struct {
	cfg  Config
	deps Deps
	log  *zap.Logger
	st   *store.SQL
	cat  Catalog

	// Set by Open.
	auth       *auth.Service
	audit      *audit.Log
	approvals  *approvals.Service
	api        api.Ceremony
	authz      api.Authorizer
	adminToken string
	jobs       *jobs.Service
	retention  *retention.Sweeper // nil without an object store

	// usableMu orders catalog refreshes' reports of retired keys; usable
	// is the set of usable key references the last refresh saw.
	usableMu sync.Mutex
	usable   map[kms.KeyRef]bool

	// eventMetrics count the webhook deliveries of this gateway's worker.
	eventMetrics *events.Metrics
}

// New seeds the config's keys and policies into the store (one gateway at
// a time) and loads the catalog. It is enough for offline use (export,
// audit tools); Open and Run start the rest.
func New(ctx context.Context, cfg Config, deps Deps) (*Service, error) {
	s := &Service{cfg: cfg, deps: deps, log: deps.Logger, st: deps.Store, eventMetrics: events.NewMetrics(nil)}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	if err := s.st.WithLock(ctx, store.LockFirstStart, s.seedPolicies); err != nil { // one seeder at a time
		return nil, err
	}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Run runs the background work of an opened control plane (signed audit
// checkpoints, the approval sweep, the jobs and the rotation scheduler,
// the catalog refresh, the lifecycle events' webhooks) until ctx is done, then flushes the aggregated
// authentication failures and signs the audit head on the way out.
func (s *Service) Run(ctx context.Context) error {
	if s.auth == nil {
		return fmt.Errorf("controlplane: Run before Open")
	}
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	run(func() { s.audit.Run(ctx, auditCheckpointEvery) })
	run(func() { s.sweepApprovals(ctx, s.cfg.SweepInterval) })
	run(func() { s.refreshLoop(ctx) })
	run(func() { s.deliverEvents(ctx) })
	if sw := s.retention; sw != nil {
		run(func() { sw.Run(ctx) })
	}
	if svc := s.jobs; svc != nil {
		run(func() { _ = svc.Runner.Run(ctx) })
		run(func() { svc.KeyRotator.Run(ctx, jobs.DefaultRotationCheck) })
	}
	wg.Wait()
	s.auth.FlushFailures(context.Background())      // aggregated failed authentications: no count is lost
	_, _ = s.audit.Checkpoint(context.Background()) // sign the head on the way out
	return nil
}

// Catalog is the live view of policies and registered keys: config entries
// (seeded into the store on first start) plus whatever the control-plane
// API has added. Sessions read it lock-free.
type Catalog struct {
	policies atomic.Pointer[policy.Set]
	keys     atomic.Pointer[map[string]kms.KeyRef] // registered key id → provider reference
	// unusable maps the provider reference of every registered key whose
	// registry state is not ENABLED (DISABLED, PENDING_DELETION,
	// DESTROYED) to that state: new sessions never ask for its DEKs.
	unusable atomic.Pointer[map[kms.KeyRef]string]
	// registry is each key as policy.ResolveKey needs it (keyresolve.go).
	registry atomic.Pointer[map[string]policy.RegisteredKey]
}

// Policies is the live policy set.
func (c *Catalog) Policies() *policy.Set { return c.policies.Load() }

// Keys maps each registered key id to its provider reference.
func (c *Catalog) Keys() *map[string]kms.KeyRef { return c.keys.Load() }

// Unusable maps the reference of each key that is not ENABLED to its state.
func (c *Catalog) Unusable() *map[kms.KeyRef]string { return c.unusable.Load() }

// Registry is the key registry as policy.ResolveKey sees it.
func (c *Catalog) Registry() *map[string]policy.RegisteredKey { return c.registry.Load() }

// Catalog is the live catalog.
func (s *Service) Catalog() *Catalog { return &s.cat }

// Refresh rebuilds the policy set and key map from the store. A store
// policy that no longer validates (e.g. names a key whose provider is not
// enabled here) is skipped and logged, never fatal.
func (s *Service) Refresh(ctx context.Context) error {
	stored, err := s.st.ListPolicies(ctx)
	if err != nil {
		return err
	}
	ps := make([]policy.Policy, 0, len(stored))
	for _, sp := range stored {
		ps = append(ps, sp.Policy)
	}
	set, err := policy.LiveSet(ps, func(p policy.Policy, err error) {
		s.log.Warn("stored policy skipped", zap.String("policy", p.ID), zap.Error(err))
	})
	if err != nil {
		return err
	}
	keys := map[string]kms.KeyRef{}
	stKeys, err := s.st.ListKeys(ctx)
	if err != nil {
		return err
	}
	unusable := map[kms.KeyRef]string{}
	for _, k := range stKeys {
		if name := kms.NameOfType(k.KeyType); name != "" {
			keys[k.ID] = kms.KeyRef{Provider: name, KeyID: k.Ref}
			if k.State != string(kms.StateEnabled) {
				unusable[keys[k.ID]] = k.State
			}
		}
	}
	for _, k := range s.cfg.Keys { // only the platform key: any other config key is in the registry (configseed.go)
		if s.isPlatformConfigKey(k) {
			name := kms.NameOfType(k.ProviderType)
			keys[k.ID] = kms.KeyRef{Provider: name, KeyID: k.ProviderKeyID}
		}
	}
	s.cat.policies.Store(set)
	s.cat.keys.Store(&keys)
	s.cat.unusable.Store(&unusable)
	s.cat.registry.Store(s.registryView(stKeys))
	s.retire(keys, unusable)
	return nil
}

func (s *Service) refreshLoop(ctx context.Context) {
	t := time.NewTicker(PolicyRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("policy refresh failed; keeping the previous set", zap.Error(err))
			}
		}
	}
}

// Handler is the /api/v2 handler. After any successful change the
// catalog is refreshed at once, so this gateway applies it to its very
// next session.
func (s *Service) Handler() http.Handler {
	authz := s.authz
	if authz == nil {
		authz = api.BootstrapToken(s.adminToken)
	}
	st, cer := s.apiDeps()
	h := api.New(api.Deps{Store: st, KMS: s.deps.Providers, OrgRegion: s.cfg.OrgRegion, CallerRegion: s.cfg.CallerRegion, Authorizer: authz,
		Logger: s.log, MaxBodyBytes: s.cfg.MaxBodyBytes, DescribeTimeout: s.cfg.KMSTimeout,
		Ceremony: cer, Jobs: s.jobsAPI(), PlatformKeyID: s.cfg.PlatformKeyID, Events: s.Events(),
		Retention: s.retentionAPI(), OrgRetentionDays: s.cfg.RetentionDays, AudioHook: audioHookAdmin{s}})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := s.Refresh(r.Context()); err != nil {
				s.log.Warn("policy refresh after change failed", zap.Error(err))
			}
		}
	})
}
