package gateway

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/storage/seal"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// metrics are the gateway's Prometheus collectors. Per-packet counters are
// not incremented on the media path: they are read from the sessions'
// atomic counters at scrape time (see packetCollector).
type metrics struct {
	reg           *prometheus.Registry
	sessionsTotal *prometheus.CounterVec
	sessionsEnded *prometheus.CounterVec
	// sessionsRefused counts session requests answered 503, by reason
	// (spool_full, capacity, shutting_down).
	sessionsRefused *prometheus.CounterVec
	fallbacks       prometheus.Counter
	keyFailures     prometheus.Counter
	bytesSealed     prometheus.Counter
	chunks          prometheus.Counter
	spoolBytes      prometheus.GaugeFunc
	spoolCommits    prometheus.CounterFunc
	apiRequests     *prometheus.CounterVec
	flushDelay      prometheus.Histogram
	flushSeconds    prometheus.Histogram
	flushErrors     prometheus.Counter
	firstDurable    prometheus.Histogram
}

func newMetrics(m *media.Manager, reg *prometheus.Registry, sp *spool.Spool) *metrics {
	x := &metrics{
		reg: reg,
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
		spoolBytes: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mediaseal_spool_bytes",
			Help: "Ciphertext bytes in the spool (being written or waiting for upload)."}, func() float64 { return float64(sp.Used()) }),
		spoolCommits: prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mediaseal_spool_commits_total",
			Help: "Durability commits of the spool: syncfs calls shared by concurrent flushes (spool.commit filesystem), or one fsync per flush (file)."},
			func() float64 { return float64(sp.Commits()) }),
		apiRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mediaseal_api_requests_total",
			Help: "HTTP API requests by route and status code."}, []string{"route", "code"}),
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
	reg.MustRegister(x.sessionsTotal, x.sessionsEnded, x.sessionsRefused, x.fallbacks, x.keyFailures, x.bytesSealed, x.chunks,
		x.spoolBytes, x.spoolCommits, x.apiRequests, x.flushDelay, x.flushSeconds, x.flushErrors, x.firstDurable, &packetCollector{m: m},
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return x
}

func (x *metrics) observeEnded(sum media.Summary) {
	x.sessionsEnded.WithLabelValues(string(sum.Status)).Inc()
	x.bytesSealed.Add(float64(sum.SealedBytes))
	x.chunks.Add(float64(sum.Chunks))
}

// packetCollector reports packet counters summed over live and ended sessions.
type packetCollector struct{ m *media.Manager }

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
	for reason, v := range map[string]int64{media.DropMalformed: total.Malformed, media.DropSource: total.Source,
		media.DropPaused: total.Paused, media.DropOverflow: total.Overflow, media.DropClosed: total.Closed, media.DropWrite: total.Write,
		media.DropRTCPSource: total.RTCPSource} {
		ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(v), reason)
	}
}

// sessionMetrics times and counts what the media manager reports: first
// durable chunk per session, every flush, key fallbacks and failures, how
// sessions end. The recording life cycle is told by media itself.
type sessionMetrics struct {
	x       *metrics
	log     *zap.Logger
	durable sync.Map // *media.Session → struct{}: sessions that were durable once
}

var (
	_ media.Observer      = (*sessionMetrics)(nil)
	_ media.FlushObserver = (*sessionMetrics)(nil)
)

// SessionStarted implements media.Observer.
func (o *sessionMetrics) SessionStarted(s *media.Session) {
	o.x.sessionsTotal.WithLabelValues(boolLabel(s.Recorded())).Inc()
}

// KeyReady implements media.Observer.
func (o *sessionMetrics) KeyReady(s *media.Session, env seal.Envelope, reason string) {
	if env.Key.Fallback {
		o.x.fallbacks.Inc()
		o.log.Warn("recording under platform key (fallback)", zap.String("recording", s.RecordingID), zap.String("reason", reason))
	}
}

// KeyFailed implements media.Observer.
func (o *sessionMetrics) KeyFailed(*media.Session, error) { o.x.keyFailures.Inc() }

// Durable implements media.Observer.
func (o *sessionMetrics) Durable(s *media.Session, _ int64) {
	if _, seen := o.durable.LoadOrStore(s, struct{}{}); !seen {
		o.x.firstDurable.Observe(time.Since(s.StartedAt).Seconds())
	}
}

// SessionEnded implements media.Observer.
func (o *sessionMetrics) SessionEnded(s *media.Session, sum media.Summary) {
	o.durable.Delete(s)
	o.x.observeEnded(sum)
}

// Flushed implements media.FlushObserver.
func (o *sessionMetrics) Flushed(_ *media.Session, ft media.FlushTiming) {
	if ft.Err != nil {
		o.x.flushErrors.Inc()
		return
	}
	o.x.flushSeconds.Observe(ft.Took.Seconds())
	if !ft.Due.IsZero() {
		o.x.flushDelay.Observe(ft.Done.Sub(ft.Due).Seconds())
	}
}

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
