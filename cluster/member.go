package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/auth"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// Gateways sharing a store are members of a cluster: each holds the lease
// of its gateway.id, renewed every third of gateway.leaseTTL. A second
// live process with the same id is refused at start; a gateway that falls
// silent (killed, host lost) has its lease claimed by one of the others,
// which marks its ACTIVE recordings awaiting recovery (audited, counted,
// listed by GET /api/v2/gateways and GET /api/v2/recordings?
// awaitingRecovery=true). Restarted with its id, it recovers them from
// its spool as any restart does.

// gatewayInstanceFile keeps the instance this data dir last ran as.
const gatewayInstanceFile = "gateway.instance"

// renameio replaces path with b atomically (0600, synced).
func renameio(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := auth.WriteFile0600(tmp, b); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Config is a member's identity and lease.
type Config struct {
	// ID is the gateway's id (ResolveID); DataDir keeps the instance it
	// last ran as; Addr is its API address, shown to the others.
	ID, DataDir, Addr string
	LeaseTTL          time.Duration
}

// Deps are the store of the leases, the audit log (nil: not audited),
// where the metrics go and the logger.
type Deps struct {
	Store    *store.SQL
	Audit    *audit.Log
	Registry prometheus.Registerer
	Logger   *zap.Logger
}

// Member is one gateway's membership of the cluster.
type Member struct {
	cfg      Config
	st       *store.SQL
	audit    *audit.Log
	log      *zap.Logger
	m        *clusterMetrics
	instance string
	started  time.Time
}

// New registers the cluster metrics and draws this process's instance.
func New(cfg Config, deps Deps) (*Member, error) {
	m, err := newClusterMetrics(deps.Registry)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 8)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	log := deps.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &Member{cfg: cfg, st: deps.Store, audit: deps.Audit, log: log, m: m, instance: hex.EncodeToString(raw)}, nil
}

type clusterMetrics struct {
	expired  prometheus.Counter
	orphaned prometheus.Counter
	lost     prometheus.Counter
}

func newClusterMetrics(reg prometheus.Registerer) (*clusterMetrics, error) {
	m := &clusterMetrics{
		expired: prometheus.NewCounter(prometheus.CounterOpts{Name: "mediaseal_cluster_gateways_expired_total",
			Help: "Peer gateways whose lease this gateway found expired."}),
		orphaned: prometheus.NewCounter(prometheus.CounterOpts{Name: "mediaseal_cluster_recordings_awaiting_recovery_total",
			Help: "ACTIVE recordings of expired peers this gateway marked awaiting recovery."}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{Name: "mediaseal_cluster_lease_lost_total",
			Help: "Times this gateway found its own lease expired or taken."}),
	}
	for _, c := range []prometheus.Collector{m.expired, m.orphaned, m.lost} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Join takes this gateway's lease (waiting up to one TTL for the lease of
// a previous, killed process of the same id to expire) and sweeps once for
// dead peers; Run then keeps renewing it. A lease still renewed after that
// wait belongs to a live gateway with the same id: the start is refused.
func (mb *Member) Join(ctx context.Context) error {
	instance := mb.instance
	// The caller holds the spool lock: no other process runs on this data
	// dir, so the instance this data dir last ran as is dead and its lease
	// (unexpired after a SIGKILL) is taken over without waiting. Another
	// host with the same gateway.id ran as another instance: refused.
	instPath := filepath.Join(mb.cfg.DataDir, gatewayInstanceFile)
	previous := ""
	if b, err := os.ReadFile(instPath); err == nil {
		previous = strings.TrimSpace(string(b))
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("gateway instance: %w", err)
	}
	ttl := mb.cfg.LeaseTTL
	started := time.Now()
	mb.started = started
	deadline := started.Add(ttl + ttl/2)
	waited := false
	for {
		now := time.Now()
		holder, err := mb.st.AcquireGatewayLease(ctx, store.GatewayLease{ID: mb.cfg.ID, Instance: instance, Addr: mb.cfg.Addr,
			Started: started, Renewed: now, Expires: now.Add(ttl), Previous: previous})
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrLeaseHeld) {
			return err
		}
		if now.After(deadline) {
			return fmt.Errorf("gateway.id %q is in use by a live gateway (instance %s, addr %q, lease renewed at %s, "+
				"waited %s for it to expire): give each gateway its own gateway.id: %w", mb.cfg.ID, holder.Instance, holder.Addr,
				holder.Renewed.Format(time.RFC3339Nano), now.Sub(started).Round(time.Millisecond), err)
		}
		if !waited {
			waited = true
			mb.log.Info("waiting for the lease of a previous process with this gateway id to expire",
				zap.String("gateway", mb.cfg.ID), zap.String("holder", holder.Instance), zap.Time("expires", holder.Expires))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(max(ttl/10, 50*time.Millisecond)):
		}
	}
	if err := renameio(instPath, []byte(instance+"\n")); err != nil {
		return fmt.Errorf("gateway instance: %w", err)
	}
	mb.log.Info("joined the cluster", zap.String("gateway", mb.cfg.ID), zap.String("instance", instance), zap.Duration("leaseTTL", ttl))
	mb.sweepPeers(ctx, mb.m)
	return nil
}

// Run renews the lease and sweeps for dead peers until ctx is done, then
// releases the lease.
func (mb *Member) Run(ctx context.Context) error {
	mb.heartbeat(ctx, mb.instance, mb.started, mb.cfg.LeaseTTL, mb.m)
	if err := mb.st.ReleaseGatewayLease(context.WithoutCancel(ctx), mb.cfg.ID, mb.instance, time.Now()); err != nil {
		mb.log.Warn("cannot release the gateway lease; the others will find it expired", zap.Error(err))
	}
	return nil
}

// heartbeat renews the lease and looks for dead peers every third of ttl.
func (mb *Member) heartbeat(ctx context.Context, instance string, started time.Time, ttl time.Duration, m *clusterMetrics) {
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		err := mb.st.RenewGatewayLease(ctx, mb.cfg.ID, instance, now, now.Add(ttl))
		if errors.Is(err, store.ErrNotFound) {
			m.lost.Inc()
			mb.reclaimLease(ctx, instance, started, ttl)
		} else if err != nil && ctx.Err() == nil {
			mb.log.Warn("gateway lease renewal failed", zap.Error(err))
		}
		mb.sweepPeers(ctx, m)
	}
}

// reclaimLease takes the lease back after this running gateway was found
// silent (paused past its TTL): its recordings are live, not awaiting
// recovery. If another process took the id meanwhile, both are logged as
// errors until an operator gives one of them its own gateway.id.
func (mb *Member) reclaimLease(ctx context.Context, instance string, started time.Time, ttl time.Duration) {
	now := time.Now()
	holder, err := mb.st.AcquireGatewayLease(ctx, store.GatewayLease{ID: mb.cfg.ID, Instance: instance, Addr: mb.cfg.Addr,
		Started: started, Renewed: now, Expires: now.Add(ttl)})
	if err != nil {
		mb.log.Error("this gateway lost its lease and cannot take it back: another process runs with the same gateway.id",
			zap.String("gateway", mb.cfg.ID), zap.String("holder", holder.Instance), zap.String("holderAddr", holder.Addr), zap.Error(err))
		return
	}
	if err := mb.st.ClearAwaitingRecovery(ctx, mb.cfg.ID); err != nil {
		mb.log.Error("lease taken back but its recordings stay marked awaiting recovery", zap.Error(err))
	}
	mb.log.Warn("this gateway's lease had expired (paused longer than gateway.leaseTTL); taken back", zap.String("gateway", mb.cfg.ID))
	mb.auditCluster(ctx, audit.Event{Actor: "gateway " + mb.cfg.ID, Action: "gateway.lease_reclaimed", Target: "gateway " + mb.cfg.ID,
		Outcome: audit.OutcomeSuccess, Details: map[string]any{"instance": instance}})
}

// sweepPeers claims the expired leases of peers, counting and auditing
// the recordings each left awaiting recovery.
func (mb *Member) sweepPeers(ctx context.Context, m *clusterMetrics) {
	expired, err := mb.st.ExpireGatewayLeases(ctx, mb.cfg.ID, time.Now())
	if err != nil && ctx.Err() == nil {
		mb.log.Warn("sweep for expired gateway leases failed", zap.Error(err))
	}
	for _, e := range expired {
		m.expired.Inc()
		m.orphaned.Add(float64(len(e.Recordings)))
		mb.log.Warn("a gateway's lease expired: its ACTIVE recordings await recovery by its restart",
			zap.String("gateway", e.Lease.ID), zap.String("instance", e.Lease.Instance), zap.Time("lastRenewed", e.Lease.Renewed),
			zap.Strings("recordings", e.Recordings))
		mb.auditCluster(ctx, audit.Event{Actor: "gateway " + mb.cfg.ID, Action: "gateway.lease_expired", Target: "gateway " + e.Lease.ID,
			Outcome: audit.OutcomeSuccess, Details: map[string]any{"instance": e.Lease.Instance, "addr": e.Lease.Addr,
				"lastRenewed": e.Lease.Renewed.Format(time.RFC3339Nano), "recordingsAwaitingRecovery": e.Recordings}})
	}
}

func (mb *Member) auditCluster(ctx context.Context, ev audit.Event) {
	if mb.audit == nil {
		return
	}
	if _, err := mb.audit.Record(ctx, ev); err != nil {
		mb.log.Error("audit: cannot record a cluster event", zap.String("action", ev.Action), zap.Error(err))
	}
}
