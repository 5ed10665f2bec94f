package auth

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/audit"
)

// Defaults of the failed-authentication aggregator.
const (
	// DefaultFailureInterval is the period of one audit entry per key.
	DefaultFailureInterval = time.Minute
	// DefaultMaxFailureKeys bounds the keys (client ids, source addresses)
	// tracked at once; failures of further keys share one overflow entry.
	DefaultMaxFailureKeys = 1024
	// overflowKey is the key of the shared overflow aggregate.
	overflowKey = "*"
	// maxReasonLen caps the reason kept from an attacker-chosen input.
	maxReasonLen = 200
)

// Failure kinds (the kind label of mediaseal_auth_failures_total).
const (
	FailureBearerToken  = "bearer_token"  // a bad, expired or revoked bearer token
	FailureClientSecret = "client_secret" // a wrong client id or secret at a token endpoint
	FailureAudioHook    = "audiohook"     // a refused AudioHook upgrade signature
)

// failureLog aggregates failed authentications so that an attacker
// cannot flood the audit log: every failure is counted (Failures, the
// Prometheus metric), the first failure of a key (the client id when the
// client exists, else the source address) in an interval is audited at
// once, later ones of the same interval are counted and written as one
// entry with the count when the interval ends. Memory is bounded: past
// max keys, failures go to one overflow aggregate.
type failureLog struct {
	rec      Recorder
	interval time.Duration
	max      int
	counts   map[string]*atomic.Uint64 // by kind, fixed at construction

	mu      sync.Mutex
	entries map[string]*failureAgg
	timer   *time.Timer
}

type failureAgg struct {
	action, target, kind, key string
	suppressed                int
	lastReason                string
}

func newFailureLog(rec Recorder, interval time.Duration, max int) *failureLog {
	if interval <= 0 {
		interval = DefaultFailureInterval
	}
	if max <= 0 {
		max = DefaultMaxFailureKeys
	}
	return &failureLog{rec: rec, interval: interval, max: max, entries: map[string]*failureAgg{},
		counts: map[string]*atomic.Uint64{FailureBearerToken: {}, FailureClientSecret: {}, FailureAudioHook: {}}}
}

// failed counts one failure of kind under key and audits it unless an
// entry for key was already written in this interval.
func (f *failureLog) failed(ctx context.Context, kind, key, action, target, reason string) {
	if c := f.counts[kind]; c != nil {
		c.Add(1)
	}
	if len(reason) > maxReasonLen {
		reason = reason[:maxReasonLen] + "…"
	}
	f.mu.Lock()
	mapKey := kind + "|" + key
	if a, ok := f.entries[mapKey]; ok {
		a.suppressed++
		a.lastReason = reason
		f.mu.Unlock()
		return
	}
	if len(f.entries) >= f.max {
		mapKey, key, target = kind+"|"+overflowKey, overflowKey, overflowKey
		if a, ok := f.entries[mapKey]; ok {
			a.suppressed++
			a.lastReason = reason
			f.mu.Unlock()
			return
		}
	}
	f.entries[mapKey] = &failureAgg{action: action, target: target, kind: kind, key: key}
	if f.timer == nil {
		f.timer = time.AfterFunc(f.interval, f.tick)
	}
	f.mu.Unlock()
	f.write(ctx, action, target, map[string]any{"kind": kind, "key": key, "reason": reason, "count": 1})
}

// tick ends an interval: each key with suppressed failures gets one entry
// with their count (that entry is the key's entry of the next interval,
// so the key stays tracked); keys without are forgotten.
func (f *failureLog) tick() {
	pending := f.drain(false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, a := range pending {
		f.write(ctx, a.action, a.target, map[string]any{"kind": a.kind, "key": a.key, "reason": a.lastReason,
			"count": a.suppressed, "suppressed": true, "interval": f.interval.String()})
	}
}

// drain takes the aggregates with suppressed failures; all forgets every
// key (shutdown), else keys with nothing pending are forgotten and the
// timer rearmed while any key is tracked.
func (f *failureLog) drain(all bool) []failureAgg {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []failureAgg
	for k, a := range f.entries {
		if a.suppressed > 0 {
			out = append(out, *a)
		}
		if all || a.suppressed == 0 {
			delete(f.entries, k)
		}
		a.suppressed = 0
	}
	f.timer = nil
	if !all && len(f.entries) > 0 {
		f.timer = time.AfterFunc(f.interval, f.tick)
	}
	return out
}

// flush writes what is pending now (shutdown).
func (f *failureLog) flush(ctx context.Context) {
	f.mu.Lock()
	if f.timer != nil {
		f.timer.Stop()
	}
	f.mu.Unlock()
	for _, a := range f.drain(true) {
		f.write(ctx, a.action, a.target, map[string]any{"kind": a.kind, "key": a.key, "reason": a.lastReason,
			"count": a.suppressed, "suppressed": true})
	}
}

func (f *failureLog) write(ctx context.Context, action, target string, details map[string]any) {
	if f.rec != nil {
		_, _ = f.rec.Record(ctx, audit.Event{Action: action, Target: target, Outcome: audit.OutcomeRefused, Details: details})
	}
}

// Failures returns how many authentications of kind failed since start
// (every one, audited or aggregated): the gateway's
// mediaseal_auth_failures_total.
func (s *Service) Failures(kind string) uint64 {
	if c := s.failures.counts[kind]; c != nil {
		return c.Load()
	}
	return 0
}

// FlushFailures writes the pending aggregated failures to the audit log
// (call on shutdown so no count is lost).
func (s *Service) FlushFailures(ctx context.Context) { s.failures.flush(ctx) }

// Failed records a failed authentication at another endpoint (kind
// FailureAudioHook): counted, and audited as action on target with the
// same aggregation per key as the token endpoints', so a flood of
// refusals cannot flood the audit log.
func (s *Service) Failed(ctx context.Context, kind, key, action, target, reason string) {
	s.failures.failed(ctx, kind, key, action, target, reason)
}

// sourceOf is the request's source address (host only), the key of
// failures that name no existing client.
func sourceOf(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}
