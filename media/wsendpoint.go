package media

import (
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/httpx"
)

// EndpointCounters are what every WebSocket ingest endpoint (Twilio,
// AudioHook) counts, each by reason: upgrades refused before the
// WebSocket, sessions ended, and what a live session could not record.
type EndpointCounters struct {
	Refused, Ended, Dropped *prometheus.CounterVec
}

// NewEndpointCounters makes the counters mediaseal_<name>_refused_total,
// mediaseal_<name>_<unit>_ended_total and mediaseal_<name>_dropped_total
// of the protocol called title; reg, when set, takes them.
func NewEndpointCounters(reg prometheus.Registerer, name, unit, title string) (EndpointCounters, error) {
	c := EndpointCounters{
		Refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mediaseal_" + name + "_refused_total",
			Help: title + " upgrades refused before the WebSocket, by reason."}, []string{"reason"}),
		Ended: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mediaseal_" + name + "_" + unit + "_ended_total",
			Help: title + " " + unit + " ended, by reason (normal end, disconnect, idle, protocol errors...)."}, []string{"reason"}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mediaseal_" + name + "_dropped_total",
			Help: title + " messages or audio of live " + unit + " not recorded, by reason."}, []string{"reason"}),
	}
	if reg != nil {
		for _, v := range []prometheus.Collector{c.Refused, c.Ended, c.Dropped} {
			if err := reg.Register(v); err != nil {
				return c, fmt.Errorf("%s: register metrics: %w", name, err)
			}
		}
	}
	return c, nil
}

// LiveLimit bounds the live sessions of each principal of an endpoint.
type LiveLimit struct {
	Max  int
	mu   sync.Mutex
	live map[string]int
}

// Acquire takes a place for key; false when key is at Max.
func (l *LiveLimit) Acquire(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.live == nil {
		l.live = map[string]int{}
	}
	if l.live[key] >= l.Max {
		return false
	}
	l.live[key]++
	return true
}

// Release gives key's place back.
func (l *LiveLimit) Release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.live[key]--; l.live[key] <= 0 {
		delete(l.live, key)
	}
}

// Endpoint is an ingest endpoint that mounts its routes.
type Endpoint interface{ Register(mux httpx.Router) }

// MountEndpoint mounts an optional ingest endpoint when enabled: build
// makes it, and an error (a configuration it cannot use) is logged and
// leaves the endpoint off, so no call is taken unauthenticated.
func MountEndpoint(mux httpx.Router, enabled bool, log *zap.Logger, name string, build func() (Endpoint, error)) {
	if !enabled {
		return
	}
	e, err := build()
	if err != nil {
		if log != nil {
			log.Error(name+" endpoint disabled", zap.Error(err))
		}
		return
	}
	e.Register(mux)
}
