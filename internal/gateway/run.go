package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/cluster"
	"github.com/mediaseal/mediaseal/httpx"
)

// Run recovers what a previous process left in the spool, starts the media
// manager, the uploader, the index writer and the HTTP API, and blocks
// until ctx is done. It then stops accepting sessions, finishes every
// recording, drains the spool (bounded by api.shutdownTimeout) and returns.
func (g *Gateway) Run(ctx context.Context) error {
	cfg := g.cfg
	var err error
	if g.ingestToken, err = httpx.EnsureTokenFile(cfg.IngestTokenPath()); err != nil {
		return fmt.Errorf("ingest token: %w", err)
	}
	if err := g.cp.Open(ctx, filepath.Join(cfg.DataDir, "admin.token")); err != nil {
		return err
	}
	if err := g.newServices(); err != nil {
		return err
	}
	unlock, err := cluster.LockSpool(g.spool.Dir())
	if err != nil {
		return err
	}
	defer unlock()
	member, err := cluster.New(cluster.Config{ID: g.id, DataDir: cfg.DataDir, Addr: cfg.API.Addr, LeaseTTL: cfg.Gateway.LeaseTTL.D()},
		cluster.Deps{Store: g.index, Audit: g.cp.AuditLog(), Registry: g.reg, Logger: g.log})
	if err != nil {
		return err
	}
	if err := member.Join(ctx); err != nil {
		return err
	}
	defer background(ctx, member.Run)() // renews the lease, then releases it
	stopRecordings := background(ctx, g.recordings.Run)
	defer stopRecordings()
	if err := g.recordings.Resume(ctx); err != nil {
		return err
	}
	if cfg.Debug.Addr != "" {
		stop, err := httpx.ServePprof(cfg.Debug.Addr, g.log)
		if err != nil {
			return err
		}
		defer stop()
	}
	stopSIPREC, err := g.startSIPREC(ctx)
	if err != nil {
		return err
	}
	defer stopSIPREC()
	// The control plane's background work (jobs, rotation, approval sweep,
	// audit checkpoints, catalog refresh) runs until the gateway has
	// finished its recordings; it then signs the audit head.
	defer background(ctx, g.cp.Run)()
	if err := g.listenAPI(); err != nil {
		return err
	}
	srv := &http.Server{Handler: g.handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: cfg.API.ReadTimeout.D()}
	close(g.ready)
	g.log.Info("mediaseal listening", zap.String("api", g.ln.Addr().String()), zap.Bool("tls", cfg.API.TLS.Enabled()), zap.String("dataDir", cfg.DataDir),
		zap.String("storage", cfg.Storage.Type), zap.String("ingestToken", cfg.IngestTokenPath()), zap.Ints("ports", []int{cfg.Media.PortMin, cfg.Media.PortMax}))

	stopMedia := background(ctx, g.media.Run)
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(g.ln) }()
	select {
	case <-ctx.Done():
	case err = <-srvErr:
	}
	g.log.Info("shutting down: finishing recordings")
	deadline, cancel := context.WithTimeout(context.Background(), cfg.API.ShutdownTimeout.D())
	defer cancel()
	stopSIPREC()        // no new recording sessions; SIPREC calls end first
	merr := stopMedia() // refuses new sessions, ends live ones
	_ = srv.Shutdown(deadline)
	// Drain the spool within the deadline; what is left uploads on next start.
	if derr := g.recordings.Drain(deadline); derr != nil {
		g.log.Warn("spool drain stopped", zap.Error(derr))
	}
	stopRecordings()
	if left := g.recordings.Pending(); left > 0 {
		g.log.Warn("spool not fully drained; it uploads on next start", zap.Int("recordings", left))
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, merr)
}

// background runs a service until the returned stop, which waits for it to
// return and gives its error (at every call). The service outlives ctx's
// cancellation: it stops when Run returns, once the gateway has finished
// its recordings.
func background(ctx context.Context, run func(context.Context) error) (stop func() error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	return sync.OnceValue(func() error { cancel(); return <-done })
}
