package recording

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mediaseal/mediaseal/storage"
)

// metrics are the life cycle's collectors.
type metrics struct {
	indexFailures  prometheus.Counter
	indexAbandoned prometheus.Counter
	states         *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, sp storage.Spool, queued func() int) (*metrics, error) {
	m := &metrics{
		indexFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "mediaseal_index_write_failures_total",
			Help: "Index writes that failed; each is retried, in order, until it lands."}),
		indexAbandoned: prometheus.NewCounter(prometheus.CounterOpts{Name: "mediaseal_index_writes_abandoned_total",
			Help: "Index writes still failing or queued at shutdown; their spool files stay and the next start finishes them."}),
		states: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mediaseal_recording_transitions_total",
			Help: "Recordings entering each life-cycle state."}, []string{"state"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.indexFailures, m.indexAbandoned, m.states, spoolWriteFailures(sp),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mediaseal_index_writes_queued",
			Help: "Index writes waiting for the store."}, func() float64 { return float64(queued()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mediaseal_spool_bytes",
			Help: "Ciphertext bytes in the spool (being written or waiting for upload)."}, func() float64 { return float64(sp.Used()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mediaseal_spool_commits_total",
			Help: "Durability commits of the spool: syncfs calls shared by concurrent flushes (spool.commit filesystem), or one fsync per flush (file)."},
			func() float64 { return float64(sp.Commits()) })} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
