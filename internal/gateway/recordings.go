package gateway

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/recording"
)

// newRecordings builds the recording life cycle on the gateway's spool,
// object store, index and KMS providers.
func (g *Gateway) newRecordings(reg prometheus.Registerer) (*recording.Service, error) {
	k := g.recordingKeys()
	return recording.New(recording.Deps{OrgID: g.cfg.Org.ID, GatewayID: g.id, Spool: g.spool, Objects: g.objects,
		Index: k.Index, Provider: k.Provider, KMSTimeout: k.Timeout, UploadRetryMax: g.cfg.Spool.RetryMax.D(),
		UploadAttempt: time.Minute, Registerer: reg, Logger: g.log})
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
