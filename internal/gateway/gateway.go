package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/ceremony/controlplane"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/cluster"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/broker"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/media/siprec"
	"github.com/mediaseal/mediaseal/media/udprx"
	play "github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/recording"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/fs"
	"github.com/mediaseal/mediaseal/storage/seal"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// Gateway is one running mediaseal.
type Gateway struct {
	cfg        *config.Config
	log        *zap.Logger
	keyring    *local.Keyring
	providers  kms.Registry
	objects    storage.Store
	spool      *spool.Spool
	index      *store.SQL
	media      *media.Manager
	metrics    *metrics
	checkToken TokenChecker
	recordings *recording.Service
	// cp is the control plane of the ceremony: catalog, tokens, quorum,
	// audit log, jobs and the /api/v2 handler.
	cp         *controlplane.Service
	approvals  *approvals.Config     // WithApprovals (tests)
	hooks      controlplane.APIHooks // test fault injection (WithAPIHooks)
	adminToken string
	broker     *broker.Broker
	playback   *play.Service

	ln        net.Listener
	tlsCerts  atomic.Pointer[certReloader] // api.tls (tls.go); nil: plain HTTP
	sip       *siprec.Server
	ready     chan struct{}
	closeOnce sync.Once
	id        string // gateway.id (cluster.ResolveID)
	// finalWriteRetry bounds a final chunk's retries (WithFinalWriteRetry).
	finalWriteRetry time.Duration
}

// New opens everything the config names (creating the data directory, the
// platform key and the ingest token on first start) without listening yet.
func New(ctx context.Context, cfg *config.Config, log *zap.Logger, opts ...Option) (*Gateway, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	g := &Gateway{cfg: cfg, log: log, providers: kms.Registry{}, ready: make(chan struct{})}
	for _, o := range opts {
		o(g)
	}
	var err error
	if g.id, err = cluster.ResolveID(cfg.Gateway.ID, cfg.DataDir); err != nil {
		return nil, err
	}
	if g.keyring, err = local.Open(cfg.KeyringDir(), cfg.Org.Region); err != nil {
		return nil, err
	}
	if g.providers[providerLocal] == nil {
		g.providers[providerLocal] = g.keyring
	}
	if err := g.openProviders(ctx); err != nil {
		return nil, err
	}
	if err := g.ensurePlatformKey(ctx); err != nil {
		g.Close()
		return nil, err
	}
	if g.objects, err = g.openStorage(ctx); err != nil {
		return nil, err
	}
	var spoolOpts []spool.Option
	if cfg.Spool.Commit == "file" {
		spoolOpts = append(spoolOpts, spool.CommitPerFile())
	}
	if g.spool, err = spool.Open(cfg.SpoolDir(), int64(cfg.Spool.MaxBytes), spoolOpts...); err != nil {
		return nil, err
	}
	scfg := store.Config{SQLitePath: cfg.SQLitePath()}
	if cfg.Store.Driver == "postgres" {
		scfg = store.Config{PostgresDSN: cfg.Store.DSN}
	}
	if g.index, err = store.Open(ctx, scfg); err != nil {
		return nil, err
	}
	// Before the control plane: its playback endpoint exports through it.
	if g.playback, err = g.newPlayback(); err != nil {
		g.index.Close()
		return nil, err
	}
	if err := g.openControlPlane(ctx); err != nil {
		g.index.Close()
		return nil, err
	}
	return g, nil
}

// openStorage builds the configured object store.
func (g *Gateway) openStorage(ctx context.Context) (storage.Store, error) {
	switch g.cfg.Storage.Type {
	case "fs":
		return fs.New(g.cfg.RecordingsDir())
	default:
		return openS3(ctx, g.cfg.Storage.S3)
	}
}

// Close releases what New opened. Idempotent.
func (g *Gateway) Close() error {
	var err error
	g.closeOnce.Do(func() {
		if g.broker != nil {
			err = g.broker.Close()
		}
		if g.index != nil {
			err = errors.Join(err, g.index.Close())
		}
		for name, p := range g.providers {
			if c, ok := p.(interface{ Close() error }); ok && name != providerLocal {
				err = errors.Join(err, c.Close())
			}
		}
	})
	return err
}

// ensureIngestToken reads <data-dir>/ingest.token, creating it (0600) with
// a random token on first start.
func ensureIngestToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		tok := strings.TrimSpace(string(b))
		if len(tok) < 32 {
			return "", fmt.Errorf("%s: token too short", path)
		}
		return tok, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", err
	}
	return tok, nil
}

// Addr returns the API listener's address once Run has started listening.
func (g *Gateway) Addr() string {
	<-g.ready
	return g.ln.Addr().String()
}

// Ready is closed once the API is listening.
func (g *Gateway) Ready() <-chan struct{} { return g.ready }

// Run recovers what a previous process left in the spool, starts the media
// manager, the uploader, the index writer and the HTTP API, and blocks
// until ctx is done. It then stops accepting sessions, finishes every
// recording, drains the spool (bounded by api.shutdownTimeout) and returns.
func (g *Gateway) Run(ctx context.Context) error {
	cfg := g.cfg
	tok, err := ensureIngestToken(cfg.IngestTokenPath())
	if err != nil {
		return fmt.Errorf("ingest token: %w", err)
	}
	if g.checkToken == nil {
		g.checkToken = staticToken(tok)
	}
	if g.adminToken, err = ensureIngestToken(filepath.Join(cfg.DataDir, "admin.token")); err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	if err := g.cp.Open(ctx, g.adminToken); err != nil {
		return err
	}
	// Service tokens are accepted beside the bootstrap ingest token.
	static := g.checkToken
	g.checkToken = func(token, scope string) error {
		if static != nil && static(token, scope) == nil {
			return nil
		}
		return g.cp.CheckToken(token, scope)
	}
	bind, err := netip.ParseAddr(cfg.Media.BindAddr)
	if err != nil {
		return err
	}
	adv, err := netip.ParseAddr(cfg.Media.AdvertiseAddr)
	if err != nil {
		return fmt.Errorf("media.advertiseAddr: %w", err)
	}
	reg := prometheus.NewRegistry()
	if g.recordings, err = g.newRecordings(reg); err != nil {
		return err
	}
	obs := &sessionMetrics{log: g.log} // its metrics are set once the manager exists
	kmsMetrics, err := broker.NewPrometheusMetrics(reg)
	if err != nil {
		return err
	}
	g.broker, err = broker.New(broker.Config{Timeout: cfg.KMS.Timeout.D(),
		PlatformKey:     g.platformRef(),
		BreakerFailures: cfg.KMS.Breaker.Failures, BreakerCooldown: cfg.KMS.Breaker.Cooldown.D()},
		g.providers, broker.WithMetrics(kmsMetrics), broker.WithAudit(g.auditKeyEvent))
	if err != nil {
		return err
	}
	cat := g.cp.Catalog()
	keys := &brokerKeys{broker: g.broker, resolver: &keyResolver{platform: g.platformRef(), platformID: cfg.KMS.PlatformKey,
		keys: cat.Keys, unusable: cat.Unusable, registry: cat.Registry}}
	g.startPools(keys)
	sealOpts := []seal.Option{seal.WithMaxChunkSize(int(cfg.Recording.MaxChunkSize)), seal.WithCompression(cfg.Recording.Compression)}
	if procs, raised := udprx.ReserveProcs(); raised {
		g.log.Info("GOMAXPROCS raised: each io_uring receive loop keeps a thread of its own", zap.Int("gomaxprocs", procs))
	}
	g.media = media.NewManager(media.Config{
		OrgID: cfg.Org.ID, BindAddr: bind, AdvertiseAddr: adv, PortMin: cfg.Media.PortMin, PortMax: cfg.Media.PortMax,
		InactivityTimeout: cfg.Media.InactivityTimeout.D(), MaxPendingBytes: int(cfg.Media.MaxPendingBytes),
		SocketBuffer: int(cfg.Media.SocketBuffer), MaxSessions: cfg.Media.MaxSessions,
		FlushInterval: cfg.Recording.FlushInterval.D(), SealOptions: sealOpts, LatchWindow: cfg.Media.Latching(),
		FinalWriteRetry: g.finalWriteRetry, GroupCommit: g.spool.GroupCommit(),
	}, media.Deps{Policies: cat.Policies, Keys: keys, Recordings: g.recordings, Observer: obs, Logger: g.log})
	g.metrics = newMetrics(g.media, reg, g.spool)
	g.cp.RegisterMetrics(reg)
	obs.x = g.metrics

	unlock, err := cluster.LockSpool(g.spool.Dir())
	if err != nil {
		return err
	}
	defer unlock()
	member, err := cluster.New(cluster.Config{ID: g.id, DataDir: cfg.DataDir, Addr: cfg.API.Addr, LeaseTTL: cfg.Gateway.LeaseTTL.D()},
		cluster.Deps{Store: g.index, Audit: g.cp.AuditLog(), Registry: reg, Logger: g.log})
	if err != nil {
		return err
	}
	if err := member.Join(ctx); err != nil {
		return err
	}
	defer background(ctx, member.Run)() // renews the lease, then releases it
	stopRecordings := g.runRecordings()
	defer stopRecordings()
	if err := g.recordings.Resume(ctx); err != nil {
		return err
	}
	stopDebug, err := g.startDebug()
	if err != nil {
		return fmt.Errorf("debug.addr: %w", err)
	}
	defer stopDebug()
	stopSIPREC, err := g.startSIPREC()
	if err != nil {
		return err
	}
	defer stopSIPREC()
	// The control plane's background work (jobs, rotation, approval sweep,
	// audit checkpoints, catalog refresh) runs until the gateway has
	// finished its recordings; it then signs the audit head.
	defer background(ctx, g.cp.Run)()
	if g.ln, err = g.listenAPI(); err != nil {
		return err
	}
	srv := &http.Server{Handler: g.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: cfg.API.ReadTimeout.D()}
	close(g.ready)
	g.log.Info("mediaseal listening", zap.String("api", g.ln.Addr().String()), zap.Bool("tls", cfg.API.TLS.Enabled()), zap.String("dataDir", cfg.DataDir),
		zap.String("storage", cfg.Storage.Type), zap.String("ingestToken", cfg.IngestTokenPath()),
		zap.Int("portMin", cfg.Media.PortMin), zap.Int("portMax", cfg.Media.PortMax))

	var wg sync.WaitGroup
	wg.Add(1)
	mediaCtx, stopMedia := context.WithCancel(context.Background())
	mediaDone := make(chan error, 1)
	go func() { defer wg.Done(); mediaDone <- g.media.Run(mediaCtx) }()
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(g.ln) }()

	select {
	case <-ctx.Done():
	case err = <-srvErr:
	}
	g.log.Info("shutting down: finishing recordings")
	deadline, cancel := context.WithTimeout(context.Background(), cfg.API.ShutdownTimeout.D())
	defer cancel()
	stopSIPREC() // no new recording sessions; SIPREC calls end first
	stopMedia()  // refuses new sessions, ends live ones
	merr := <-mediaDone
	_ = srv.Shutdown(deadline)
	// Drain the spool within the deadline; what is left uploads on next start.
	if derr := g.recordings.Drain(deadline); derr != nil {
		g.log.Warn("spool drain stopped", zap.Error(derr))
	}
	stopRecordings()
	wg.Wait()
	if left := g.recordings.Pending(); left > 0 {
		g.log.Warn("spool not fully drained; it uploads on next start", zap.Int("recordings", left))
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, merr)
}

// background runs a service until the returned stop, which waits for it to
// return. The service outlives ctx's cancellation: it stops when Run
// returns, once the gateway has finished its recordings.
func background(ctx context.Context, run func(context.Context) error) (stop func() error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	return func() error { cancel(); return <-done }
}

// auditKeyEvent records the broker's fallback and fail-closed decisions.
func (g *Gateway) auditKeyEvent(ctx context.Context, ev broker.Event) {
	g.log.Warn("recording key event", zap.Any("event", ev))
	g.cp.RecordKeyEvent(ctx, ev)
}

// Handler is the HTTP API: session API, health, metrics.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	g.sessionRoutes(mux)
	g.cp.Routes(mux)
	g.auditHeadRoutes(mux)
	g.whipRoutes(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", g.readyz)
	mux.Handle("/api/v2/", g.cp.Handler())
	// Metrics carry no secrets but do reveal call volumes: authenticated.
	mux.Handle("GET /metrics", g.requireScope(ScopeMetrics, promhttp.HandlerFor(g.metrics.reg, promhttp.HandlerOpts{}).ServeHTTP))
	return g.metrics.countRequests(mux)
}

func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{}
	ok := true
	if err := g.index.DB().PingContext(ctx); err != nil {
		checks["store"], ok = err.Error(), false
	} else {
		checks["store"] = "ok"
	}
	if _, err := g.objects.List(ctx, "readyz-probe/"); err != nil {
		checks["storage"], ok = err.Error(), false
	} else {
		checks["storage"] = "ok"
	}
	if info, err := g.providers[g.platformRef().Provider].Describe(ctx, g.platformRef()); err != nil || info.State != kms.StateEnabled {
		checks["platformKey"], ok = fmt.Sprint("unusable: ", err), false
	} else {
		checks["platformKey"] = "ok"
	}
	if msg, anchored := g.cp.AnchorCheck(); !anchored {
		checks["auditAnchor"], ok = msg, false
	} else {
		checks["auditAnchor"] = msg
	}
	if g.spool.Full() {
		checks["spool"], ok = "full", false
	} else if msg := g.spool.WriteProblem(); msg != "" {
		checks["spool"], ok = msg, false
	} else {
		checks["spool"] = "ok"
	}
	msg, indexOK := g.recordings.IndexCheck() // "behind (N queued)" while new sessions are refused
	checks["index"], ok = msg, ok && indexOK
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, checks)
}

// DataPath joins a path under the data directory.
func (g *Gateway) DataPath(p string) string { return filepath.Join(g.cfg.DataDir, p) }
