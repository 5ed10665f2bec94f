package gateway

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/adapters"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/broker"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/media/udprx"
	play "github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/playback/offline"
	"github.com/mediaseal/mediaseal/recording"
)

// newServices builds what records: the metrics registry, the recording
// life cycle, the DEK broker and the media manager that draws keys from it.
func (g *Gateway) newServices() error {
	cfg := g.cfg
	mcfg, err := adapters.Media(cfg)
	if err != nil {
		return err
	}
	g.reg = prometheus.NewRegistry()
	g.reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	if g.recordings, err = g.newRecordings(g.reg); err != nil {
		return err
	}
	if g.metrics, err = media.NewMetrics(g.reg, g.log); err != nil {
		return err
	}
	kmsMetrics, err := broker.NewPrometheusMetrics(g.reg)
	if err != nil {
		return err
	}
	g.broker, err = broker.New(adapters.Broker(cfg), g.providers, broker.WithMetrics(g.cp.BreakerEvents(kmsMetrics)), broker.WithAudit(g.auditKeyEvent))
	if err != nil {
		return err
	}
	keys := g.cp.KeySource(g.broker, cfg.KMS.Pool.On(), cfg.KMS.Pool.Size)
	if procs, raised := udprx.ReserveProcs(); raised {
		g.log.Info("GOMAXPROCS raised: each io_uring receive loop keeps a thread of its own", zap.Int("gomaxprocs", procs))
	}
	mcfg.FinalWriteRetry, mcfg.GroupCommit = g.finalWriteRetry, g.spool.GroupCommit()
	g.media = media.NewManager(mcfg, media.Deps{Policies: g.cp.Catalog().Policies, Keys: keys, Recordings: g.recordings, Observer: g.metrics, Logger: g.log})
	if err := g.metrics.Watch(g.reg, g.media); err != nil {
		return err
	}
	g.cp.RegisterMetrics(g.reg)
	return nil
}

// auditKeyEvent records the broker's fallback and fail-closed decisions.
func (g *Gateway) auditKeyEvent(ctx context.Context, ev broker.Event) {
	g.log.Warn("recording key event", zap.Any("event", ev))
	g.cp.RecordKeyEvent(ctx, ev)
}

// onPool gives the control plane a hook on the DEK pools: a rotated key's
// pooled DEKs are drained (new recordings take its new version), a retired
// key's are wiped and no longer refilled. Before Run builds the broker
// there is no pool to act on.
func (g *Gateway) onPool(f func(*broker.Broker, kms.KeyRef)) func(kms.KeyRef) {
	return func(key kms.KeyRef) {
		if b := g.broker; b != nil {
			f(b, key)
		}
	}
}

// newRecordings builds the recording life cycle on the gateway's spool,
// object store, index and KMS providers.
func (g *Gateway) newRecordings(reg prometheus.Registerer) (*recording.Service, error) {
	k := g.recordingKeys()
	return recording.New(recording.Deps{OrgID: g.cfg.Org.ID, CallerRegion: g.cfg.Org.CallerRegion, GatewayID: g.id, Spool: g.spool, Objects: g.objects,
		Index: k.Index, Provider: k.Provider, KMSTimeout: k.Timeout, UploadRetryMax: g.cfg.Spool.RetryMax.D(),
		UploadAttempt: time.Minute, StorageOutage: g.cp.StorageEvents(), Registerer: reg, Logger: g.log})
}

func (g *Gateway) recordingKeys() recording.Keys {
	return recording.Keys{Index: store.RecordingIndex{SQL: g.index}, OrgID: g.cfg.Org.ID, Timeout: g.cfg.KMS.Timeout.D(),
		Provider: g.providers.ByName}
}

// WithFinalWriteRetry bounds how long a call's final chunk is retried
// while the spool refuses writes (default media.DefaultFinalWriteRetry).
func WithFinalWriteRetry(d time.Duration) Option {
	return func(g *Gateway) { g.finalWriteRetry = d }
}

// newPlayback serves the gateway's playback from its own stores, spool
// and key path.
func (g *Gateway) newPlayback() (*play.Service, error) {
	return play.New(play.Deps{Objects: g.objects, Index: offline.Index(g.index, adapters.ProviderOf),
		Keys: g.recordingKeys(), Spool: g.spool, Platform: g.platformRef()})
}
