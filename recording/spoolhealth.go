package recording

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mediaseal/mediaseal/storage"
)

// spoolWriteFailures counts failed spool writes (flushes, final chunks and
// probes): a full or failing disk shows here before any recording is lost.
func spoolWriteFailures(sp storage.Spool) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mediaseal_spool_write_failures_total",
		Help: "Spool writes that failed (appends and the periodic write probe); while the last one failed, /readyz is 503 and new sessions are refused."},
		func() float64 { return float64(sp.WriteFailures()) })
}
