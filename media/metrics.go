package media

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/storage/seal"
)

// Metrics are the session and media collectors. Per-packet counters are
// not incremented on the media path: they are read from the sessions'
// atomic counters at scrape time (see packetCollector). Metrics is the
// manager's Observer: it times and counts first durable chunks, flushes,
// key fallbacks and failures, and how sessions end.
type Metrics struct {
	log           *zap.Logger
	durable       sync.Map // *Session → struct{}: sessions that were durable once
	sessionsTotal *prometheus.CounterVec
	sessionsEnded *prometheus.CounterVec
	// sessionsRefused counts session requests answered 503, by reason
	// (spool_full, capacity, shutting_down).
	sessionsRefused *prometheus.CounterVec
	fallbacks       prometheus.Counter
	keyFailures     prometheus.Counter
	bytesSealed     prometheus.Counter
	chunks          prometheus.Counter
	flushDelay      prometheus.Histogram
	flushSeconds    prometheus.Histogram
	flushErrors     prometheus.Counter
	firstDurable    prometheus.Histogram
}

// NewMetrics registers the session collectors on reg; [Metrics.Watch]
// adds the packet counters of the manager it observes.
func NewMetrics(reg prometheus.Registerer, log *zap.Logger) (*Metrics, error) {
	x := &Metrics{
		log: log,
		sessionsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mediaseal_sessions_total",
			Help: "Sessions created, by whether a policy records them."}, []string{"recorded"}),
		sessionsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mediaseal_sessions_ended_total",
			Help: "Sessions ended, by final status."}, []string{"status"}),
		sessionsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mediaseal_sessions_refused_total",
			Help: "Session requests refused (503), by reason."}, []string{"reason"}),
		fallbacks: prometheus.NewCounter(prometheus.CounterOpts{Name: "mediaseal_dek_fallbacks_total",
			Help: "Recordings that fell back to the platform key."}),
		keyFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "mediaseal_dek_failures_total",
			Help: "Recordings not recorded because no key could be obtained (fail closed)."}),
		bytesSealed: prometheus.NewCounter(prometheus.CounterOpts{Name: "mediaseal_sealed_bytes_total",
			Help: "Bytes of sealed recordings finished."}),
		chunks: prometheus.NewCounter(prometheus.CounterOpts{Name: "mediaseal_chunks_total",
			Help: "Chunks sealed in finished recordings."}),
		flushDelay: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mediaseal_flush_delay_seconds",
			Help:    "Time from a recording's flush falling due to its sealed media being durable (fsynced).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		flushSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mediaseal_flush_seconds",
			Help:    "Time one flush takes: seal the pending chunk, write and fsync it.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18)}),
		flushErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "mediaseal_flush_errors_total",
			Help: "Flushes that failed (retried at the next interval; nothing sealed is dropped)."}),
		firstDurable: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mediaseal_first_durable_seconds",
			Help:    "Time from session start to its first sealed chunk being durable (includes the DEK wait).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
	}
	for _, c := range []prometheus.Collector{x.sessionsTotal, x.sessionsEnded, x.sessionsRefused, x.fallbacks, x.keyFailures,
		x.bytesSealed, x.chunks, x.flushDelay, x.flushSeconds, x.flushErrors, x.firstDurable} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// Watch registers the packet counters of m, summed over its live and
// ended sessions at scrape time.
func (x *Metrics) Watch(reg prometheus.Registerer, m *Manager) error {
	return reg.Register(&packetCollector{m: m})
}

// Refused is the counter of session requests refused for reason.
func (x *Metrics) Refused(reason string) prometheus.Counter {
	return x.sessionsRefused.WithLabelValues(reason)
}

// packetCollector reports packet counters summed over live and ended sessions.
type packetCollector struct{ m *Manager }

var (
	descActive  = prometheus.NewDesc("mediaseal_sessions_active", "Live sessions.", nil, nil)
	descPackets = prometheus.NewDesc("mediaseal_packets_received_total", "RTP/RTCP datagrams received.", nil, nil)
	descRecPkts = prometheus.NewDesc("mediaseal_packets_recorded_total", "RTP packets recorded.", nil, nil)
	descDropped = prometheus.NewDesc("mediaseal_packets_dropped_total", "Packets dropped, by reason.", []string{"reason"}, nil)
)

func (c *packetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descActive
	ch <- descPackets
	ch <- descRecPkts
	ch <- descDropped
}

func (c *packetCollector) Collect(ch chan<- prometheus.Metric) {
	live := c.m.Sessions()
	total := c.m.EndedCounters()
	for _, s := range live {
		total.Add(s.Counters())
	}
	ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, float64(len(live)))
	ch <- prometheus.MustNewConstMetric(descPackets, prometheus.CounterValue, float64(total.Received))
	ch <- prometheus.MustNewConstMetric(descRecPkts, prometheus.CounterValue, float64(total.Recorded))
	for reason, v := range total.ByReason() {
		ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(v), reason)
	}
}

var (
	_ Observer      = (*Metrics)(nil)
	_ FlushObserver = (*Metrics)(nil)
)

// SessionStarted implements Observer.
func (o *Metrics) SessionStarted(s *Session) {
	o.sessionsTotal.WithLabelValues(boolLabel(s.Recorded())).Inc()
}

// KeyReady implements Observer.
func (o *Metrics) KeyReady(s *Session, env seal.Envelope, reason string) {
	if env.Key.Fallback {
		o.fallbacks.Inc()
		o.log.Warn("recording under platform key (fallback)", zap.String("recording", s.RecordingID), zap.String("reason", reason))
	}
}

// KeyFailed implements Observer.
func (o *Metrics) KeyFailed(*Session, error) { o.keyFailures.Inc() }

// Durable implements Observer.
func (o *Metrics) Durable(s *Session, _ int64) {
	if _, seen := o.durable.LoadOrStore(s, struct{}{}); !seen {
		o.firstDurable.Observe(time.Since(s.StartedAt).Seconds())
	}
}

// SessionEnded implements Observer.
func (o *Metrics) SessionEnded(s *Session, sum Summary) {
	o.durable.Delete(s)
	o.sessionsEnded.WithLabelValues(string(sum.Status)).Inc()
	o.bytesSealed.Add(float64(sum.SealedBytes))
	o.chunks.Add(float64(sum.Chunks))
}

// Flushed implements FlushObserver.
func (o *Metrics) Flushed(_ *Session, ft FlushTiming) {
	if ft.Err != nil {
		o.flushErrors.Inc()
		return
	}
	o.flushSeconds.Observe(ft.Took.Seconds())
	if !ft.Due.IsZero() {
		o.flushDelay.Observe(ft.Done.Sub(ft.Due).Seconds())
	}
}

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
