package uploader

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the uploader's Prometheus instruments. A nil *Metrics
// records nothing.
type Metrics struct {
	// Latency observes each confirmed upload (Put and verification), seconds.
	Latency prometheus.Histogram
	// Errors counts failed attempts by kind: unavailable, timeout,
	// checksum, access_denied, invalid_key, missing, done, other.
	Errors *prometheus.CounterVec
	// Backlog is the number of files waiting or in flight.
	Backlog prometheus.Gauge
	// BacklogBytes is their total size.
	BacklogBytes prometheus.Gauge
	// Uploaded counts files confirmed in storage and handed to Done.
	Uploaded prometheus.Counter
}

// NewMetrics creates the instruments and registers them with reg (when
// not nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "mediaseal", Subsystem: "upload", Name: "duration_seconds",
			Help:    "Time to upload and verify one spooled recording.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14), // 10 ms .. ~80 s
		}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "mediaseal", Subsystem: "upload", Name: "errors_total",
			Help: "Failed upload attempts by kind.",
		}, []string{"kind"}),
		Backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "mediaseal", Subsystem: "upload", Name: "backlog",
			Help: "Spooled recordings waiting for upload or in flight.",
		}),
		BacklogBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "mediaseal", Subsystem: "upload", Name: "backlog_bytes",
			Help: "Bytes of spooled recordings waiting for upload or in flight.",
		}),
		Uploaded: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "mediaseal", Subsystem: "upload", Name: "uploaded_total",
			Help: "Recordings uploaded, verified and released from the spool.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Latency, m.Errors, m.Backlog, m.BacklogBytes, m.Uploaded)
	}
	return m
}

func (m *Metrics) observe(seconds float64) {
	if m != nil {
		m.Latency.Observe(seconds)
		m.Uploaded.Inc()
	}
}

func (m *Metrics) failed(kind string) {
	if m != nil {
		m.Errors.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) backlog(n int, bytes int64) {
	if m != nil {
		m.Backlog.Set(float64(n))
		m.BacklogBytes.Set(float64(bytes))
	}
}
