package gateway

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/ceremony/controlplane"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/cluster"
	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/internal/adapters"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/broker"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/media/siprec"
	play "github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/recording"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// Gateway is one running mediaseal.
type Gateway struct {
	cfg       *config.Config
	log       *zap.Logger
	id        string   // gateway.id (cluster.ResolveID)
	routes    []string // the API's patterns (http.go Routes)
	keyring   *local.Keyring
	providers kms.Registry
	objects   storage.Store
	spool     *spool.Spool
	index     *store.SQL
	// cp is the control plane of the ceremony: catalog, tokens, quorum,
	// audit log, jobs and the /api/v2 handler.
	cp       *controlplane.Service
	playback *play.Service

	// Built by Run.
	reg         *prometheus.Registry
	broker      *broker.Broker
	recordings  *recording.Service
	media       *media.Manager
	metrics     *media.Metrics
	ingestToken string
	ln          *httpx.Listener
	sip         *siprec.Server
	ready       chan struct{}
	closeOnce   sync.Once

	// Options (tests).
	approvals       *approvals.Config     // WithApprovals
	hooks           controlplane.APIHooks // WithAPIHooks
	finalWriteRetry time.Duration         // WithFinalWriteRetry
}

// Option adjusts a Gateway at construction (tests inject providers).
type Option func(*Gateway)

// WithKMSProvider registers (or replaces) a key provider by name.
func WithKMSProvider(name string, p kms.Provider) Option {
	return func(g *Gateway) { g.providers[name] = p }
}

// New opens everything the config names (creating the data directory, the
// platform key and the ingest token on first start) without listening yet.
func New(ctx context.Context, cfg *config.Config, log *zap.Logger, opts ...Option) (_ *Gateway, err error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	g := &Gateway{cfg: cfg, log: log, providers: kms.Registry{}, ready: make(chan struct{})}
	for _, o := range opts {
		o(g)
	}
	defer func() { // a failed start closes what it had opened
		if err != nil {
			g.Close()
		}
	}()
	if g.id, err = cluster.ResolveID(cfg.Gateway.ID, cfg.DataDir); err != nil {
		return nil, err
	}
	if g.keyring, err = adapters.Providers(ctx, cfg, g.providers); err != nil {
		return nil, err
	}
	if err = adapters.CheckKeys(cfg, g.providers); err != nil {
		return nil, err
	}
	if err = adapters.EnsurePlatformKey(ctx, cfg, g.providers, g.keyring); err != nil {
		return nil, err
	}
	if g.objects, err = adapters.Objects(ctx, cfg); err != nil {
		return nil, err
	}
	if g.spool, err = adapters.Spool(cfg); err != nil {
		return nil, err
	}
	if g.index, err = adapters.Store(ctx, cfg); err != nil {
		return nil, err
	}
	if g.playback, err = g.newPlayback(); err != nil {
		return nil, err
	}
	if err = g.openControlPlane(ctx); err != nil {
		return nil, err
	}
	return g, nil
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
		err = errors.Join(err, adapters.CloseProviders(g.providers))
	})
	return err
}

// Addr returns the API listener's address once Run has started listening.
func (g *Gateway) Addr() string {
	<-g.ready
	return g.ln.Addr().String()
}

// Ready is closed once the API is listening.
func (g *Gateway) Ready() <-chan struct{} { return g.ready }

// platformRef is the platform key as its provider names it.
func (g *Gateway) platformRef() kms.KeyRef { return adapters.PlatformKey(g.cfg) }
