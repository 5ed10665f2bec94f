package cluster

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// TestMemberFindsSilentPeer: a gateway restarted on its own data dir
// (after a kill: its lease still live) takes its lease back at once,
// without waiting for the TTL; a member whose peer then stops renewing
// claims the peer's expired lease, counted.
func TestMemberFindsSilentPeer(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(dir, "index.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	const ttl = 300 * time.Millisecond
	join := func(id string, reg *prometheus.Registry) *Member {
		t.Helper()
		m, err := New(Config{ID: id, DataDir: filepath.Join(dir, id), Addr: "127.0.0.1:0", LeaseTTL: ttl}, Deps{Store: st, Registry: reg})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Join(ctx); err != nil {
			t.Fatalf("join %s: %v", id, err)
		}
		return m
	}
	for _, id := range []string{"gw-a", "gw-b"} {
		if err := os.MkdirAll(filepath.Join(dir, id), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	join("gw-a", prometheus.NewRegistry()) // then killed: never renews
	start := time.Now()
	join("gw-a", prometheus.NewRegistry()) // restarted on its data dir, then silent
	if waited := time.Since(start); waited >= ttl {
		t.Fatalf("restart waited %s for its own lease", waited)
	}
	regB := prometheus.NewRegistry()
	b := join("gw-b", regB)
	done := make(chan error, 1)
	runCtx, stop := context.WithCancel(ctx)
	go func() { done <- b.Run(runCtx) }()
	defer func() { stop(); <-done }()

	deadline := time.Now().Add(10 * ttl)
	for testutil.ToFloat64(b.m.expired) < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("gw-b did not find gw-a's lease expired within %s", 10*ttl)
		}
		time.Sleep(ttl / 10)
	}
}
