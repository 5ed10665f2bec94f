package auth

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

type memRecorder struct {
	mu     sync.Mutex
	events []audit.Event
}

func (m *memRecorder) Record(_ context.Context, ev audit.Event) (store.AuditEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, ev)
	return store.AuditEntry{}, nil
}

func (m *memRecorder) snapshot() []audit.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]audit.Event(nil), m.events...)
}

// counted sums the count of the entries per key.
func counted(evs []audit.Event) map[string]int {
	out := map[string]int{}
	for _, e := range evs {
		out[fmt.Sprint(e.Details["key"])] += e.Details["count"].(int)
	}
	return out
}

// TestFailureLogBounded: one entry per key per interval at once, the
// rest as one count when the interval ends; past max keys one overflow
// aggregate, so memory and audit entries stay bounded while every
// failure is counted.
func TestFailureLogBounded(t *testing.T) {
	rec := &memRecorder{}
	f := newFailureLog(rec, 50*time.Millisecond, 3)
	ctx := context.Background()
	for i := range 100 {
		f.failed(ctx, FailureClientSecret, fmt.Sprintf("client-%d", i), "token.refused", "x", "wrong secret")
		f.failed(ctx, FailureBearerToken, "10.0.0.1", "access.refused", "GET /", "bad token")
	}
	if got := f.counts[FailureClientSecret].Load() + f.counts[FailureBearerToken].Load(); got != 200 {
		t.Fatalf("counted %d, want 200", got)
	}
	if n := len(rec.snapshot()); n != 4 {
		t.Fatalf("%d entries at once, want 4 (3 keys, 1 overflow)", n)
	}
	f.mu.Lock()
	if n := len(f.entries); n != 4 {
		t.Fatalf("%d tracked keys, want at most 3 + overflow", n)
	}
	f.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for len(rec.snapshot()) < 6 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := counted(rec.snapshot())
	if got["client-0"]+got["client-1"]+got["10.0.0.1"]+got[overflowKey] != 200 || got["10.0.0.1"] != 100 {
		t.Fatalf("counts %v, want 200 in all, 100 for 10.0.0.1", got)
	}
	// A key with nothing suppressed is forgotten after two quiet intervals.
	time.Sleep(200 * time.Millisecond)
	f.mu.Lock()
	n := len(f.entries)
	f.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d keys still tracked after quiet intervals", n)
	}
}

// TestFailureLogFlush: shutdown writes the pending counts.
func TestFailureLogFlush(t *testing.T) {
	rec := &memRecorder{}
	f := newFailureLog(rec, time.Hour, 10)
	for range 5 {
		f.failed(context.Background(), FailureBearerToken, "192.0.2.1", "access.refused", "GET /", "expired")
	}
	f.flush(context.Background())
	if got := counted(rec.snapshot()); got["192.0.2.1"] != 5 || len(rec.snapshot()) != 2 {
		t.Fatalf("after flush: %v (%d entries)", got, len(rec.snapshot()))
	}
}
