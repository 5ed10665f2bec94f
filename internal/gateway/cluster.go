package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// joinCluster takes this gateway's lease (waiting up to one TTL for the
// lease of a previous, killed process of the same id to expire), sweeps
// once for dead peers and keeps renewing until the returned leave, which
// releases the lease. A lease still renewed after that wait belongs to a
// live gateway with the same id: the start is refused.
func (g *Gateway) joinCluster(ctx context.Context, reg prometheus.Registerer) (leave func(), err error) {
	m, err := newClusterMetrics(reg)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 8)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	instance := hex.EncodeToString(raw)
	// The caller holds the spool lock: no other process runs on this data
	// dir, so the instance this data dir last ran as is dead and its lease
	// (unexpired after a SIGKILL) is taken over without waiting. Another
	// host with the same gateway.id ran as another instance: refused.
	instPath := filepath.Join(g.cfg.DataDir, gatewayInstanceFile)
	previous := ""
	if b, err := os.ReadFile(instPath); err == nil {
		previous = strings.TrimSpace(string(b))
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("gateway instance: %w", err)
	}
	ttl := g.cfg.Gateway.LeaseTTL.D()
	started := time.Now()
	deadline := started.Add(ttl + ttl/2)
	waited := false
	for {
		now := time.Now()
		holder, err := g.index.AcquireGatewayLease(ctx, store.GatewayLease{ID: g.id, Instance: instance, Addr: g.cfg.API.Addr,
			Started: started, Renewed: now, Expires: now.Add(ttl), Previous: previous})
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrLeaseHeld) {
			return nil, err
		}
		if now.After(deadline) {
			return nil, fmt.Errorf("gateway.id %q is in use by a live gateway (instance %s, addr %q, lease renewed at %s, "+
				"waited %s for it to expire): give each gateway its own gateway.id: %w", g.id, holder.Instance, holder.Addr,
				holder.Renewed.Format(time.RFC3339Nano), now.Sub(started).Round(time.Millisecond), err)
		}
		if !waited {
			waited = true
			g.log.Info("waiting for the lease of a previous process with this gateway id to expire",
				zap.String("gateway", g.id), zap.String("holder", holder.Instance), zap.Time("expires", holder.Expires))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(max(ttl/10, 50*time.Millisecond)):
		}
	}
	if err := renameio(instPath, []byte(instance+"\n")); err != nil {
		return nil, fmt.Errorf("gateway instance: %w", err)
	}
	g.log.Info("joined the cluster", zap.String("gateway", g.id), zap.String("instance", instance), zap.Duration("leaseTTL", ttl))
	g.sweepPeers(ctx, m)
	bg, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); g.heartbeat(bg, instance, started, ttl, m) }()
	return func() {
		cancel()
		wg.Wait()
		if err := g.index.ReleaseGatewayLease(context.Background(), g.id, instance, time.Now()); err != nil {
			g.log.Warn("cannot release the gateway lease; the others will find it expired", zap.Error(err))
		}
	}, nil
}

// heartbeat renews the lease and looks for dead peers every third of ttl.
func (g *Gateway) heartbeat(ctx context.Context, instance string, started time.Time, ttl time.Duration, m *clusterMetrics) {
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		err := g.index.RenewGatewayLease(ctx, g.id, instance, now, now.Add(ttl))
		if errors.Is(err, store.ErrNotFound) {
			m.lost.Inc()
			g.reclaimLease(ctx, instance, started, ttl)
		} else if err != nil && ctx.Err() == nil {
			g.log.Warn("gateway lease renewal failed", zap.Error(err))
		}
		g.sweepPeers(ctx, m)
	}
}

// reclaimLease takes the lease back after this running gateway was found
// silent (paused past its TTL): its recordings are live, not awaiting
// recovery. If another process took the id meanwhile, both are logged as
// errors until an operator gives one of them its own gateway.id.
func (g *Gateway) reclaimLease(ctx context.Context, instance string, started time.Time, ttl time.Duration) {
	now := time.Now()
	holder, err := g.index.AcquireGatewayLease(ctx, store.GatewayLease{ID: g.id, Instance: instance, Addr: g.cfg.API.Addr,
		Started: started, Renewed: now, Expires: now.Add(ttl)})
	if err != nil {
		g.log.Error("this gateway lost its lease and cannot take it back: another process runs with the same gateway.id",
			zap.String("gateway", g.id), zap.String("holder", holder.Instance), zap.String("holderAddr", holder.Addr), zap.Error(err))
		return
	}
	if err := g.index.ClearAwaitingRecovery(ctx, g.id); err != nil {
		g.log.Error("lease taken back but its recordings stay marked awaiting recovery", zap.Error(err))
	}
	g.log.Warn("this gateway's lease had expired (paused longer than gateway.leaseTTL); taken back", zap.String("gateway", g.id))
	g.auditCluster(ctx, audit.Event{Actor: "gateway " + g.id, Action: "gateway.lease_reclaimed", Target: "gateway " + g.id,
		Outcome: audit.OutcomeSuccess, Details: map[string]any{"instance": instance}})
}

// sweepPeers claims the expired leases of peers, counting and auditing
// the recordings each left awaiting recovery.
func (g *Gateway) sweepPeers(ctx context.Context, m *clusterMetrics) {
	expired, err := g.index.ExpireGatewayLeases(ctx, g.id, time.Now())
	if err != nil && ctx.Err() == nil {
		g.log.Warn("sweep for expired gateway leases failed", zap.Error(err))
	}
	for _, e := range expired {
		m.expired.Inc()
		m.orphaned.Add(float64(len(e.Recordings)))
		g.log.Warn("a gateway's lease expired: its ACTIVE recordings await recovery by its restart",
			zap.String("gateway", e.Lease.ID), zap.String("instance", e.Lease.Instance), zap.Time("lastRenewed", e.Lease.Renewed),
			zap.Strings("recordings", e.Recordings))
		g.auditCluster(ctx, audit.Event{Actor: "gateway " + g.id, Action: "gateway.lease_expired", Target: "gateway " + e.Lease.ID,
			Outcome: audit.OutcomeSuccess, Details: map[string]any{"instance": e.Lease.Instance, "addr": e.Lease.Addr,
				"lastRenewed": e.Lease.Renewed.Format(time.RFC3339Nano), "recordingsAwaitingRecovery": e.Recordings}})
	}
}

func (g *Gateway) auditCluster(ctx context.Context, ev audit.Event) {
	l := g.cp.AuditLog()
	if l == nil {
		return
	}
	if _, err := l.Record(ctx, ev); err != nil {
		g.log.Error("audit: cannot record a cluster event", zap.String("action", ev.Action), zap.Error(err))
	}
}
