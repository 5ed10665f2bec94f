package gateway

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mediaseal/mediaseal/storage/spool"
)

// spoolWriteFailures counts failed spool writes (flushes, final chunks and
// probes): a full or failing disk shows here before any recording is lost.
func spoolWriteFailures(sp *spool.Spool) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mediaseal_spool_write_failures_total",
		Help: "Spool writes that failed (appends and the periodic write probe); while the last one failed, /readyz is 503 and new sessions are refused."},
		func() float64 { return float64(sp.WriteFailures()) })
}

// WithFinalWriteRetry bounds how long a call's final chunk is retried
// while the spool refuses writes (default media.DefaultFinalWriteRetry).
func WithFinalWriteRetry(d time.Duration) Option {
	return func(g *Gateway) { g.finalWriteRetry = d }
}
