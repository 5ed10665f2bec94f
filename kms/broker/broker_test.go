package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/awskms"
	"github.com/mediaseal/mediaseal/kms/local"
)

const customerKeyID = "6f1c2a4e-0d7b-4b8e-9c55-3a2d1e0f0001"

// fixture is a real local-kms (the customer's KMS) and a platform keyring.
type fixture struct {
	kms      *testenv.LocalKMS
	aws      *awskms.Provider
	keyring  *local.Keyring
	customer kms.KeyRef
	platform kms.KeyRef
	metrics  *PrometheusMetrics

	mu     sync.Mutex
	events []Event
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	l := testenv.StartLocalKMS(t, testenv.SeedKey{ID: customerKeyID, BackingKeys: []string{testenv.RandomHexKey(t)}})
	aws, err := awskms.New(context.Background(), awskms.Config{
		Region: l.Region, Endpoint: l.Endpoint, AccessKeyID: "test", SecretAccessKey: "test", OrgRegion: l.Region,
	}, awskms.WithCiphertextVersion(awskms.LocalKMSCiphertextVersion))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := local.Open(t.TempDir(), l.Region)
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.EnsureKey("platform"); err != nil {
		t.Fatal(err)
	}
	m, err := NewPrometheusMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{
		kms: l, aws: aws, keyring: kr, metrics: m,
		customer: kms.KeyRef{Provider: awskms.ProviderName, KeyID: l.ARN(customerKeyID)},
		platform: kms.KeyRef{Provider: local.ProviderName, KeyID: "platform"},
	}
}

func (f *fixture) broker(t testing.TB, cfg Config) *Broker {
	t.Helper()
	cfg.PlatformKey = f.platform
	b, err := New(cfg, map[string]kms.Provider{awskms.ProviderName: f.aws, local.ProviderName: f.keyring},
		WithMetrics(f.metrics),
		WithAudit(func(_ context.Context, ev Event) { f.mu.Lock(); f.events = append(f.events, ev); f.mu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func (f *fixture) audited() []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Event(nil), f.events...)
}

func (f *fixture) provider(ref kms.KeyRef) kms.Provider {
	if ref.Provider == local.ProviderName {
		return f.keyring
	}
	return f.aws
}

// checkUnwraps proves the result's DEK is what its key returns for its
// wrapped form and context.
func (f *fixture) checkUnwraps(t *testing.T, res *Result) {
	t.Helper()
	got, err := f.provider(res.Key).Unwrap(context.Background(), res.Key, res.DataKey.Wrapped, res.Context)
	if err != nil {
		t.Fatalf("Unwrap under %s: %v", res.Key, err)
	}
	if !bytes.Equal(got, res.DataKey.Plaintext) {
		t.Fatal("unwrapped DEK differs")
	}
}

func recCtx(rec string) kms.EncryptionContext {
	return kms.EncryptionContext{"org": "org-1", "policy": "pci", "recording": rec}
}

func TestAcquireCustomerKey(t *testing.T) {
	f := newFixture(t)
	b := f.broker(t, Config{Timeout: 2 * time.Second})
	res, err := b.Acquire(context.Background(), Request{Key: f.customer, Context: recCtx("r1"), OnKeyUnavailable: FailClosed}).Result()
	if err != nil {
		t.Fatal(err)
	}
	if res.Fallback || res.Pooled || res.Key != f.customer || res.KeyVersion != "0" {
		t.Fatalf("result %+v: want the customer key, version 0, no fallback", res)
	}
	f.checkUnwraps(t, res)
	if got := testutil.ToFloat64(f.metrics.requests.WithLabelValues(f.customer.String(), "ok")); got != 1 {
		t.Fatalf("requests_total{ok} = %v, want 1", got)
	}
	if len(f.audited()) != 0 {
		t.Fatalf("audit events %v for a successful request", f.audited())
	}
}

func TestFallbackWhenKMSStopped(t *testing.T) {
	f := newFixture(t)
	const timeout = 300 * time.Millisecond
	b := f.broker(t, Config{Timeout: timeout})
	f.kms.Pause()
	defer f.kms.Resume()
	p := b.Acquire(context.Background(), Request{Key: f.customer, Context: recCtx("r1"), OnKeyUnavailable: PlatformKey})
	select {
	case <-p.Done():
		t.Fatal("Acquire finished at once although the KMS is stopped")
	default: // Acquire returned without waiting for the KMS
	}
	res, err := p.Result()
	if err != nil {
		t.Fatalf("PLATFORM_KEY request failed: %v", err)
	}
	if !res.Fallback || res.Key != f.platform || res.Reason != "timeout" || !errors.Is(res.Cause, kms.ErrUnavailable) {
		t.Fatalf("result %+v: want a timeout fallback to %s", res, f.platform)
	}
	if res.Latency < timeout {
		t.Fatalf("fell back after %v, before the %v timeout", res.Latency, timeout)
	}
	f.checkUnwraps(t, res)
	evs := f.audited()
	if len(evs) != 1 || evs[0].Outcome != OutcomeFallback || evs[0].PlatformKey != f.platform || evs[0].Key != f.customer {
		t.Fatalf("audit events %+v, want one fallback", evs)
	}
	if got := testutil.ToFloat64(f.metrics.fallbacks.WithLabelValues(f.customer.String(), "timeout")); got != 1 {
		t.Fatalf("fallbacks_total{timeout} = %v, want 1", got)
	}
}

func TestFailClosedWhenKMSStopped(t *testing.T) {
	f := newFixture(t)
	b := f.broker(t, Config{Timeout: 200 * time.Millisecond})
	f.kms.Pause()
	defer f.kms.Resume()
	res, err := b.Acquire(context.Background(), Request{Key: f.customer, Context: recCtx("r1"), OnKeyUnavailable: FailClosed}).Result()
	if res != nil || !errors.Is(err, ErrFailClosed) || !errors.Is(err, kms.ErrUnavailable) {
		t.Fatalf("got %+v, %v; want ErrFailClosed wrapping ErrUnavailable", res, err)
	}
	for _, want := range []string{"FAIL_CLOSED", "timeout", customerKeyID} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	evs := f.audited()
	if len(evs) != 1 || evs[0].Outcome != OutcomeFailClosed {
		t.Fatalf("audit events %+v, want one fail_closed", evs)
	}
	if got := testutil.ToFloat64(f.metrics.requests.WithLabelValues(f.customer.String(), "fail_closed")); got != 1 {
		t.Fatalf("requests_total{fail_closed} = %v, want 1", got)
	}
}

func TestBreakerOpensAndRecovers(t *testing.T) {
	f := newFixture(t)
	const timeout, cooldown = 200 * time.Millisecond, 400 * time.Millisecond
	b := f.broker(t, Config{Timeout: timeout, BreakerFailures: 2, BreakerCooldown: cooldown})
	req := Request{Key: f.customer, Context: recCtx("r"), OnKeyUnavailable: PlatformKey}
	gauge := func() float64 { return testutil.ToFloat64(f.metrics.breaker.WithLabelValues(f.customer.String())) }

	f.kms.Pause()
	for i := range 2 {
		res, err := b.Acquire(context.Background(), req).Result()
		if err != nil || res.Reason != "timeout" {
			t.Fatalf("request %d: %+v, %v; want a timeout fallback", i, res, err)
		}
	}
	if s := b.BreakerState(f.customer); s != Open || gauge() != float64(Open) {
		t.Fatalf("breaker %v (gauge %v) after 2 timeouts, want open", s, gauge())
	}
	// While open, requests fall back without waiting for the timeout.
	res, err := b.Acquire(context.Background(), req).Result()
	if err != nil || !res.Fallback || res.Reason != "breaker_open" || res.Latency >= timeout {
		t.Fatalf("open breaker: %+v, %v; want an immediate breaker_open fallback", res, err)
	}
	_, err = b.Acquire(context.Background(), Request{Key: f.customer, Context: recCtx("r"), OnKeyUnavailable: FailClosed}).Result()
	if !errors.Is(err, ErrFailClosed) || !errors.Is(err, ErrBreakerOpen) {
		t.Fatalf("FAIL_CLOSED with open breaker: %v", err)
	}

	f.kms.Resume()
	time.Sleep(cooldown)
	res, err = b.Acquire(context.Background(), req).Result() // the half-open probe
	if err != nil || res.Fallback || res.Key != f.customer {
		t.Fatalf("probe after resume: %+v, %v; want the customer key", res, err)
	}
	if s := b.BreakerState(f.customer); s != Closed || gauge() != float64(Closed) {
		t.Fatalf("breaker %v (gauge %v) after a successful probe, want closed", s, gauge())
	}
	f.checkUnwraps(t, res)
}

func TestKMSRefusalFallsBackWithoutTrippingBreaker(t *testing.T) {
	f := newFixture(t)
	b := f.broker(t, Config{Timeout: 2 * time.Second, BreakerFailures: 1})
	if err := f.aws.Disable(context.Background(), f.customer); err != nil {
		t.Fatal(err)
	}
	res, err := b.Acquire(context.Background(), Request{Key: f.customer, Context: recCtx("r"), OnKeyUnavailable: PlatformKey}).Result()
	if err != nil || !res.Fallback || res.Reason != "disabled" || !errors.Is(res.Cause, kms.ErrDisabled) {
		t.Fatalf("disabled key: %+v, %v; want a 'disabled' fallback", res, err)
	}
	if s := b.BreakerState(f.customer); s != Closed {
		t.Fatalf("breaker %v after a refusal, want closed", s)
	}
	_, err = b.Acquire(context.Background(), Request{Key: f.customer, Context: recCtx("r"), OnKeyUnavailable: FailClosed}).Result()
	if !errors.Is(err, ErrFailClosed) || !errors.Is(err, kms.ErrDisabled) {
		t.Fatalf("FAIL_CLOSED on a disabled key: %v", err)
	}
}

func TestRequestsWithoutCustomerKMS(t *testing.T) {
	f := newFixture(t)
	b := f.broker(t, Config{Timeout: time.Second})
	tests := []struct {
		name       string
		req        Request
		wantKey    kms.KeyRef
		wantReason string
		wantErr    error
	}{
		{"platform-key policy", Request{Key: f.platform, Context: recCtx("a")}, f.platform, "", nil},
		{"no provider for key", Request{Key: kms.KeyRef{Provider: "vault", KeyID: "k"}, Context: recCtx("b")}, f.platform, "not_found", nil},
		{"no provider, fail closed", Request{Key: kms.KeyRef{Provider: "vault", KeyID: "k"}, Context: recCtx("c"), OnKeyUnavailable: FailClosed}, kms.KeyRef{}, "", ErrNoProvider},
		{"foreign region", Request{Key: kms.KeyRef{Provider: awskms.ProviderName, KeyID: "arn:aws:kms:us-east-1:111122223333:key/x"}, Context: recCtx("d"), OnKeyUnavailable: FailClosed}, kms.KeyRef{}, "", kms.ErrRegionMismatch},
		{"bad mode", Request{Key: f.customer, OnKeyUnavailable: "MAYBE"}, kms.KeyRef{}, "", errors.New("")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := b.Acquire(context.Background(), tc.req).Result()
			if tc.wantErr != nil {
				if err == nil || (tc.wantErr.Error() != "" && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || res.Key != tc.wantKey || res.Reason != tc.wantReason {
				t.Fatalf("got %+v, %v; want key %v reason %q", res, err, tc.wantKey, tc.wantReason)
			}
			f.checkUnwraps(t, res)
		})
	}
}

func TestPoolHandsOutDistinctDEKs(t *testing.T) {
	f := newFixture(t)
	poolCtx := kms.EncryptionContext{"org": "org-1", "policy": "pci"}
	const size = 4
	b := f.broker(t, Config{Timeout: 2 * time.Second, Pools: []PoolSpec{{Key: f.customer, Context: poolCtx, Size: size}}})
	waitPool(t, b, f.customer, size)
	seen := map[string]bool{}
	for i := range size {
		req := Request{Key: f.customer, Context: recCtx(fmt.Sprint("rec-", i)), OnKeyUnavailable: FailClosed}
		res, err := b.Acquire(context.Background(), req).Result()
		if err != nil {
			t.Fatal(err)
		}
		if !res.Pooled || res.Key != f.customer {
			t.Fatalf("request %d: %+v, want a pooled DEK", i, res)
		}
		if seen[string(res.DataKey.Plaintext)] || seen[string(res.DataKey.Wrapped)] {
			t.Fatalf("request %d: a pooled DEK was handed out twice", i)
		}
		seen[string(res.DataKey.Plaintext)], seen[string(res.DataKey.Wrapped)] = true, true
		// The trade-off: bound to the pool's context, not the recording's.
		if len(res.Context) != len(poolCtx) || res.Context["recording"] != "" {
			t.Fatalf("pooled DEK context %v, want %v", res.Context, poolCtx)
		}
		f.checkUnwraps(t, res)
		if _, err := f.aws.Unwrap(context.Background(), f.customer, res.DataKey.Wrapped, req.Context); !errors.Is(err, kms.ErrInvalidCiphertext) {
			t.Fatalf("pooled DEK unwrapped under the recording's context: %v", err)
		}
	}
	// Another organisation never gets this pool's DEKs.
	waitPool(t, b, f.customer, 1)
	other := Request{Key: f.customer, Context: kms.EncryptionContext{"org": "org-2", "policy": "pci", "recording": "x"}}
	res, err := b.Acquire(context.Background(), other).Result()
	if err != nil || res.Pooled || res.Context["org"] != "org-2" {
		t.Fatalf("other org: %+v, %v; want a fresh DEK under its own context", res, err)
	}
	f.checkUnwraps(t, res)
	// The pool refills.
	waitPool(t, b, f.customer, size)
}

func waitPool(t *testing.T, b *Broker, key kms.KeyRef, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.PoolLen(key) < n {
		if time.Now().After(deadline) {
			t.Fatalf("pool has %d DEKs, want %d", b.PoolLen(key), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestClose(t *testing.T) {
	f := newFixture(t)
	b := f.broker(t, Config{Pools: []PoolSpec{{Key: f.customer, Context: kms.EncryptionContext{"org": "org-1"}, Size: 2}}})
	waitPool(t, b, f.customer, 2)
	b.Close()
	b.Close()
	if b.PoolLen(f.customer) != 0 {
		t.Fatal("Close left pooled DEKs")
	}
	if _, err := b.Acquire(context.Background(), Request{Key: f.platform}).Result(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Acquire after Close: %v, want ErrClosed", err)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"negative timeout", Config{Timeout: -1}, "timeout"},
		{"negative failures", Config{BreakerFailures: -1}, "breakerFailures"},
		{"empty pool", Config{Pools: []PoolSpec{{Key: kms.KeyRef{Provider: "local", KeyID: "k"}}}}, "pools[0]"},
		{"pool without provider", Config{Pools: []PoolSpec{{Key: kms.KeyRef{Provider: "vault", KeyID: "k"}, Size: 1}}}, "no provider"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, map[string]kms.Provider{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
}

// TestUnusableKey: a key the caller knows is deliberately disabled is not
// asked (not even its pool): FAIL_CLOSED fails closed, PLATFORM_KEY falls
// back, and both are audited with the reason "disabled".
func TestUnusableKey(t *testing.T) {
	f := newFixture(t)
	poolCtx := kms.EncryptionContext{"org": "org-1", "policy": "pci"}
	b := f.broker(t, Config{Timeout: 2 * time.Second, Pools: []PoolSpec{{Key: f.customer, Context: poolCtx, Size: 2}}})
	waitPool(t, b, f.customer, 2)
	why := fmt.Errorf("%w: registry state DISABLED", kms.ErrDisabled)
	_, err := b.Acquire(context.Background(), Request{Key: f.customer, Context: recCtx("r1"), OnKeyUnavailable: FailClosed, Unusable: why}).Result()
	if !errors.Is(err, ErrFailClosed) || !errors.Is(err, kms.ErrDisabled) {
		t.Fatalf("FAIL_CLOSED on an unusable key: %v", err)
	}
	res, err := b.Acquire(context.Background(), Request{Key: f.customer, Context: recCtx("r2"), OnKeyUnavailable: PlatformKey, Unusable: why}).Result()
	if err != nil || !res.Fallback || res.Pooled || res.Key != f.platform || res.Reason != "disabled" {
		t.Fatalf("PLATFORM_KEY on an unusable key: %+v, %v", res, err)
	}
	f.checkUnwraps(t, res)
	if n := b.PoolLen(f.customer); n != 2 {
		t.Fatalf("pool of the unusable key has %d DEKs, want 2 untouched", n)
	}
	ev := f.audited()
	if len(ev) != 2 || ev[0].Outcome != OutcomeFailClosed || ev[1].Outcome != OutcomeFallback || ev[0].Reason != "disabled" || ev[1].Reason != "disabled" {
		t.Fatalf("audit events %+v", ev)
	}
}
