package broker

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mediaseal/mediaseal/kms"
)

// Outcome is how a request ended, the "outcome" label of the metrics.
type Outcome string

// Outcomes.
const (
	OutcomeOK         Outcome = "ok"          // DEK from the requested key
	OutcomePooled     Outcome = "pooled"      // DEK from the pre-fetch pool
	OutcomeFallback   Outcome = "fallback"    // DEK from the platform key
	OutcomeFailClosed Outcome = "fail_closed" // no DEK, policy FAIL_CLOSED
	OutcomeError      Outcome = "error"       // no DEK (platform key failed too, or cancelled)
)

// Metrics receives the broker's measurements. All methods must be cheap
// and safe for concurrent use.
type Metrics interface {
	Request(key kms.KeyRef, outcome Outcome, latency time.Duration)
	Fallback(key kms.KeyRef, reason string)
	BreakerState(key kms.KeyRef, s State)
}

type nopMetrics struct{}

func (nopMetrics) Request(kms.KeyRef, Outcome, time.Duration) {}
func (nopMetrics) Fallback(kms.KeyRef, string)                {}
func (nopMetrics) BreakerState(kms.KeyRef, State)             {}

// PrometheusMetrics implements Metrics with Prometheus collectors.
type PrometheusMetrics struct {
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	fallbacks *prometheus.CounterVec
	breaker   *prometheus.GaugeVec
}

var _ Metrics = (*PrometheusMetrics)(nil)

// NewPrometheusMetrics creates the collectors and registers them with reg
// (nil: not registered):
//
//	mediaseal_kms_requests_total{key,outcome}
//	mediaseal_kms_request_duration_seconds{key,outcome}
//	mediaseal_kms_fallbacks_total{key,reason}
//	mediaseal_kms_breaker_state{key}   0 closed, 1 half-open, 2 open
func NewPrometheusMetrics(reg prometheus.Registerer) (*PrometheusMetrics, error) {
	m := &PrometheusMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "mediaseal", Subsystem: "kms", Name: "requests_total",
			Help: "DEK requests by key reference and outcome.",
		}, []string{"key", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "mediaseal", Subsystem: "kms", Name: "request_duration_seconds",
			Help:    "Time from Acquire to a DEK or a failure.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"key", "outcome"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "mediaseal", Subsystem: "kms", Name: "fallbacks_total",
			Help: "Requests that fell back to the platform key or failed closed, by reason.",
		}, []string{"key", "reason"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "mediaseal", Subsystem: "kms", Name: "breaker_state",
			Help: "Circuit breaker state per key: 0 closed, 1 half-open, 2 open.",
		}, []string{"key"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.latency, m.fallbacks, m.breaker} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// Request implements Metrics.
func (m *PrometheusMetrics) Request(key kms.KeyRef, outcome Outcome, latency time.Duration) {
	m.requests.WithLabelValues(key.String(), string(outcome)).Inc()
	m.latency.WithLabelValues(key.String(), string(outcome)).Observe(latency.Seconds())
}

// Fallback implements Metrics.
func (m *PrometheusMetrics) Fallback(key kms.KeyRef, reason string) {
	m.fallbacks.WithLabelValues(key.String(), reason).Inc()
}

// BreakerState implements Metrics.
func (m *PrometheusMetrics) BreakerState(key kms.KeyRef, s State) {
	m.breaker.WithLabelValues(key.String()).Set(float64(s))
}
