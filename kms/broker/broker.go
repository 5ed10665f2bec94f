package broker

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/mediaseal/mediaseal/kms"
)

// Defaults, in one place.
const (
	DefaultTimeout         = 5 * time.Second
	DefaultBreakerFailures = 3
	DefaultBreakerCooldown = 30 * time.Second
)

// OnKeyUnavailable is a policy's choice when its key cannot be used; the
// values are the policy schema's.
type OnKeyUnavailable string

// Choices.
const (
	PlatformKey OnKeyUnavailable = "PLATFORM_KEY"
	FailClosed  OnKeyUnavailable = "FAIL_CLOSED"
)

// PoolSpec pre-fetches DEKs for one key (see the package documentation).
type PoolSpec struct {
	Key kms.KeyRef
	// Context is what a request's context must contain for a pooled DEK
	// to serve it (e.g. the org, and a policy for a per-policy pool); no
	// recording id.
	Context kms.EncryptionContext
	// NewContext, when set, returns the context each pooled DEK is
	// generated under (e.g. Context plus the key and a unique DEK id); nil:
	// every DEK is generated under Context.
	NewContext func() (kms.EncryptionContext, error)
	Size       int
}

// Config configures a Broker. Zero values take the defaults above.
type Config struct {
	// Timeout bounds each request to a customer key (and, separately, the
	// platform-key fallback).
	Timeout time.Duration
	// PlatformKey is the fallback key when a request names none.
	PlatformKey kms.KeyRef
	// BreakerFailures consecutive availability failures open a key's breaker.
	BreakerFailures int
	// BreakerCooldown is how long an open breaker waits before a probe.
	BreakerCooldown time.Duration
	// Pools are the keys with pre-fetched DEKs.
	Pools []PoolSpec
}

func (c *Config) fill() error {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.BreakerFailures == 0 {
		c.BreakerFailures = DefaultBreakerFailures
	}
	if c.BreakerCooldown == 0 {
		c.BreakerCooldown = DefaultBreakerCooldown
	}
	switch {
	case c.Timeout < 0:
		return fmt.Errorf("broker: timeout %v is negative", c.Timeout)
	case c.BreakerFailures < 0:
		return fmt.Errorf("broker: breakerFailures %d is negative", c.BreakerFailures)
	case c.BreakerCooldown < 0:
		return fmt.Errorf("broker: breakerCooldown %v is negative", c.BreakerCooldown)
	}
	for i, p := range c.Pools {
		if p.Size <= 0 || p.Key.KeyID == "" {
			return fmt.Errorf("broker: pools[%d]: needs a key and a size > 0 (got %q, %d)", i, p.Key, p.Size)
		}
	}
	return nil
}

// Event is what the audit hook receives when a request does not get a DEK
// from the key it asked for.
type Event struct {
	Time        time.Time
	Key         kms.KeyRef // the key the request asked for
	PlatformKey kms.KeyRef // the key used instead (zero when failed closed)
	Mode        OnKeyUnavailable
	Outcome     Outcome // OutcomeFallback or OutcomeFailClosed
	Reason      string  // short kind: timeout, unavailable, breaker_open, disabled, ...
	Cause       error
	Context     kms.EncryptionContext
}

// Option configures a Broker.
type Option func(*Broker)

// WithMetrics sets where measurements go (default: nowhere).
func WithMetrics(m Metrics) Option { return func(b *Broker) { b.metrics = m } }

// WithAudit sets the hook called, in the request's goroutine, for every
// fallback and fail-closed decision. It should not block for long.
func WithAudit(f func(ctx context.Context, ev Event)) Option {
	return func(b *Broker) { b.audit = f }
}

// Broker hands out DEKs. Safe for concurrent use; Close stops it.
type Broker struct {
	cfg       Config
	providers map[string]kms.Provider
	metrics   Metrics
	audit     func(context.Context, Event)
	now       func() time.Time

	mu       sync.Mutex
	breakers map[kms.KeyRef]*breaker
	pools    map[kms.KeyRef]*pool

	stop      context.CancelFunc
	stopCtx   context.Context
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New returns a Broker over providers, keyed by kms.KeyRef.Provider (e.g.
// "local", "aws-kms", "pkcs11"). Pools start filling at once.
func New(cfg Config, providers map[string]kms.Provider, opts ...Option) (*Broker, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	b := &Broker{
		cfg:       cfg,
		providers: providers,
		metrics:   nopMetrics{},
		now:       time.Now,
		breakers:  map[kms.KeyRef]*breaker{},
		pools:     map[kms.KeyRef]*pool{},
	}
	for _, o := range opts {
		o(b)
	}
	b.stopCtx, b.stop = context.WithCancel(context.Background())
	for _, spec := range cfg.Pools {
		if _, ok := providers[spec.Key.Provider]; !ok {
			b.stop()
			return nil, fmt.Errorf("%w: pool key %s", ErrNoProvider, spec.Key)
		}
		b.startPool(spec)
	}
	return b, nil
}

// EnsurePool starts a pool for spec.Key unless it has one; a key put in
// use after New (a customer key registered at run time) gets its pool so.
func (b *Broker) EnsurePool(spec PoolSpec) error {
	if spec.Size <= 0 || spec.Key.KeyID == "" {
		return fmt.Errorf("broker: pool needs a key and a size > 0 (got %q, %d)", spec.Key, spec.Size)
	}
	if _, ok := b.providers[spec.Key.Provider]; !ok {
		return fmt.Errorf("%w: pool key %s", ErrNoProvider, spec.Key)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopCtx.Err() != nil {
		return ErrClosed
	}
	if b.pools[spec.Key] == nil {
		b.startPool(spec)
	}
	return nil
}

// startPool registers spec's pool and starts its refill workers; b.mu is
// held or b not shared yet.
func (b *Broker) startPool(spec PoolSpec) {
	p := newPool(spec)
	b.pools[spec.Key] = p
	for range min(refillWorkers, spec.Size) {
		b.wg.Add(1)
		p.workers.Add(1)
		go func() { defer b.wg.Done(); defer p.workers.Done(); b.refill(p) }()
	}
}

// Close stops the pool refills, waits for requests in flight and wipes
// unused pooled DEKs. Idempotent.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock() // no Acquire is between its check and wg.Add
		b.stop()
		pools := maps.Clone(b.pools)
		b.mu.Unlock()
		b.wg.Wait()
		for _, p := range pools {
			p.wipe()
		}
	})
	return nil
}

// BreakerState reports the circuit breaker state of key.
func (b *Broker) BreakerState(key kms.KeyRef) State { return b.breakerFor(key).current() }

// PoolLen reports how many pre-fetched DEKs key has ready (0 without a pool).
func (b *Broker) PoolLen(key kms.KeyRef) int {
	b.mu.Lock()
	p := b.pools[key]
	b.mu.Unlock()
	if p == nil {
		return 0
	}
	return p.len()
}

func (b *Broker) breakerFor(key kms.KeyRef) *breaker {
	b.mu.Lock()
	defer b.mu.Unlock()
	br := b.breakers[key]
	if br == nil {
		br = &breaker{failures: b.cfg.BreakerFailures, cooldown: b.cfg.BreakerCooldown}
		b.breakers[key] = br
		b.metrics.BreakerState(key, Closed)
	}
	return br
}
