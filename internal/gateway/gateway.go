package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
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
	"go.uber.org/zap/exp/zapslog"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/jobs"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/broker"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/media/siprec"
	"github.com/mediaseal/mediaseal/media/udprx"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/fs"
	"github.com/mediaseal/mediaseal/storage/seal"
	"github.com/mediaseal/mediaseal/storage/spool"
	"github.com/mediaseal/mediaseal/storage/uploader"
)

// Gateway is one running mediaseal.
type Gateway struct {
	cfg        *config.Config
	log        *zap.Logger
	keyring    *local.Keyring
	providers  map[string]kms.Provider
	objects    storage.Store
	spool      *spool.Spool
	index      *store.SQL
	media      *media.Manager
	metrics    *metrics
	checkToken TokenChecker
	uploads    *uploader.Uploader
	catalog    catalog
	// apiAuthorizer authorizes control-plane requests (nil: the bootstrap
	// admin token in <data-dir>/admin.token).
	apiAuthorizer api.Authorizer
	adminToken    string
	cer           ceremonyState // tokens, quorum, audit log (ceremony.go)
	indexer       *indexer
	broker        *broker.Broker
	jobs          *jobs.Service // re-encryption jobs and key rotation (jobs.go)
	hooks         apiHooks      // test fault injection (apihooks.go)

	ln        net.Listener
	tlsCerts  atomic.Pointer[certReloader] // api.tls (tls.go); nil: plain HTTP
	sip       *siprec.Server
	ready     chan struct{}
	closeOnce sync.Once
	id        string // gateway.id (gatewayid.go)
	// finalWriteRetry bounds a final chunk's retries (WithFinalWriteRetry).
	finalWriteRetry time.Duration
}

// New opens everything the config names (creating the data directory, the
// platform key and the ingest token on first start) without listening yet.
func New(ctx context.Context, cfg *config.Config, log *zap.Logger, opts ...Option) (*Gateway, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	g := &Gateway{cfg: cfg, log: log, providers: map[string]kms.Provider{}, ready: make(chan struct{})}
	for _, o := range opts {
		o(g)
	}
	var err error
	if g.id, err = resolveGatewayID(cfg); err != nil {
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
	if err := g.index.WithLock(ctx, store.LockFirstStart, g.seedPolicies); err != nil { // one seeder at a time (startlock.go)
		g.index.Close()
		return nil, err
	}
	if err := g.refreshCatalog(ctx); err != nil {
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
	stopCeremony, err := g.startCeremony(ctx)
	if err != nil {
		return err
	}
	defer stopCeremony()
	bind, err := netip.ParseAddr(cfg.Media.BindAddr)
	if err != nil {
		return err
	}
	adv, err := netip.ParseAddr(cfg.Media.AdvertiseAddr)
	if err != nil {
		return fmt.Errorf("media.advertiseAddr: %w", err)
	}
	g.indexer = &indexer{st: g.index, log: g.log, gatewayID: g.id, org: cfg.Org.ID, progress: map[string]int64{}}
	reg := prometheus.NewRegistry()
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
	keys := &brokerKeys{broker: g.broker, resolver: &keyResolver{platform: g.platformRef(), platformID: cfg.KMS.PlatformKey,
		keys: g.catalog.keys.Load, unusable: g.catalog.unusable.Load, registry: g.catalog.registry.Load}}
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
		FinalWriteRetry: g.finalWriteRetry,
	}, media.Deps{Policies: g.catalog.policies.Load, Keys: keys, Spool: g.spool, Observer: meter(g.indexer), Logger: g.log})
	g.metrics = newMetrics(g.media, reg, g.spool)
	g.registerAuthMetrics(reg)
	g.registerAuditMetrics(reg)
	g.indexer.metrics = g.metrics
	g.indexer.finished = func(e spool.Entry) {
		if err := g.enqueueUpload(e); err != nil {
			g.log.Error("cannot queue recording for upload", zap.String("recording", e.ID), zap.Error(err))
		}
	}
	g.indexer.spool = g.spool
	g.uploads, err = uploader.New(uploader.Config{Store: g.objects, Done: g.uploaded,
		MinBackoff: 500 * time.Millisecond, MaxBackoff: cfg.Spool.RetryMax.D(), AttemptTimeout: time.Minute,
		Metrics: uploader.NewMetrics(reg), Logger: slog.New(zapslog.NewHandler(g.log.Core()))})
	if err != nil {
		return err
	}

	unlock, err := lockSpool(g.spool.Dir())
	if err != nil {
		return err
	}
	defer unlock()
	leave, err := g.joinCluster(ctx, reg) // cluster.go
	if err != nil {
		return err
	}
	defer leave()
	if err := g.recover(ctx); err != nil {
		return err
	}
	g.enqueueSpooled()
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
	defer g.startJobs(ctx)()
	if g.ln, err = g.listenAPI(); err != nil {
		return err
	}
	srv := &http.Server{Handler: g.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: cfg.API.ReadTimeout.D()}
	close(g.ready)
	g.log.Info("mediaseal listening", zap.String("api", g.ln.Addr().String()), zap.Bool("tls", cfg.API.TLS.Enabled()), zap.String("dataDir", cfg.DataDir),
		zap.String("storage", cfg.Storage.Type), zap.String("ingestToken", cfg.IngestTokenPath()),
		zap.Int("portMin", cfg.Media.PortMin), zap.Int("portMax", cfg.Media.PortMax))

	bg, stopBG := context.WithCancel(context.Background())
	g.indexer.unwritten = func(id string) { go g.recoverUnwritten(bg, id) }
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); g.refreshLoop(bg) }()
	go func() { defer wg.Done(); _ = g.uploads.Run(bg) }()
	go func() { defer wg.Done(); g.indexer.run(bg, 2*time.Second) }()
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
	if derr := g.uploads.Drain(deadline); derr != nil {
		g.log.Warn("spool drain stopped", zap.Error(derr))
	}
	stopBG()
	wg.Wait()
	if left := pendingUploads(g.spool); left > 0 {
		g.log.Warn("spool not fully drained; it uploads on next start", zap.Int("recordings", left))
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, merr)
}

// auditKeyEvent records the broker's fallback and fail-closed decisions.
func (g *Gateway) auditKeyEvent(ctx context.Context, ev broker.Event) {
	g.log.Warn("recording key event", zap.Any("event", ev))
	g.recordKeyEvent(ctx, ev)
}

func pendingUploads(s *spool.Spool) int {
	ents, _ := s.Entries()
	n := 0
	for _, e := range ents {
		if e.State != spool.StateOpen {
			n++
		}
	}
	return n
}

// Handler is the HTTP API: session API, health, metrics.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	g.sessionRoutes(mux)
	g.ceremonyRoutes(mux)
	g.whipRoutes(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", g.readyz)
	mux.Handle("/api/v2/", g.controlPlane(g.adminToken))
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
	if msg, anchored := g.auditAnchorCheck(); !anchored {
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
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, checks)
}

// DataPath joins a path under the data directory.
func (g *Gateway) DataPath(p string) string { return filepath.Join(g.cfg.DataDir, p) }
