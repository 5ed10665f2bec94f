package uploader_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/fs"
	"github.com/mediaseal/mediaseal/storage/uploader"
)

// spoolFiles writes n ciphertext-like files, the first one oldest, and
// returns their items.
func spoolFiles(t *testing.T, n, size int) []uploader.Item {
	t.Helper()
	dir := t.TempDir()
	base := time.Date(2026, 3, 7, 9, 0, 0, 0, time.UTC)
	items := make([]uploader.Item, n)
	for i := range items {
		id := fmt.Sprintf("rec%02d", i)
		p := filepath.Join(dir, id+".sealed")
		b := bytes.Repeat([]byte{byte(i + 1)}, size+i)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		started := base.Add(time.Duration(i) * time.Minute)
		items[i] = uploader.Item{Key: storage.RecordingKey("acme", started, id), Path: p, Queued: started}
	}
	return items
}

// recorder is a Done callback that removes the spool file, as the spool
// does, and remembers the order.
type recorder struct {
	mu   sync.Mutex
	keys []string
}

func (r *recorder) done(_ context.Context, it uploader.Item) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = append(r.keys, it.Key)
	return os.Remove(it.Path)
}

func (r *recorder) order() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.keys...)
}

// checkStored verifies every item is in the store, whole.
func checkStored(t *testing.T, s storage.Store, items []uploader.Item, contents map[string][]byte) {
	t.Helper()
	for _, it := range items {
		rc, err := s.Get(context.Background(), it.Key, 0, -1)
		if err != nil {
			t.Fatalf("Get(%s): %v", it.Key, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, contents[it.Key]) {
			t.Fatalf("%s: stored %d bytes (%v), want the %d spooled", it.Key, len(got), err, len(contents[it.Key]))
		}
	}
}

func readAll(t *testing.T, items []uploader.Item) map[string][]byte {
	t.Helper()
	m := make(map[string][]byte)
	for _, it := range items {
		b, err := os.ReadFile(it.Path)
		if err != nil {
			t.Fatal(err)
		}
		m[it.Key] = b
	}
	return m
}

// run starts u.Run and returns a stop function that waits for it.
func run(t *testing.T, u *uploader.Uploader) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- u.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func drain(t *testing.T, u *uploader.Uploader, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := u.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestOldestFirstAndDone(t *testing.T) {
	store, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	items := spoolFiles(t, 6, 1000)
	contents := readAll(t, items)
	rec := &recorder{}
	reg := prometheus.NewRegistry()
	m := uploader.NewMetrics(reg)
	u, err := uploader.New(uploader.Config{Store: store, Done: rec.done, Concurrency: 1, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	// Enqueued newest first, twice: order and de-duplication are the uploader's.
	for i := len(items) - 1; i >= 0; i-- {
		u.Enqueue(items[i])
		u.Enqueue(items[i])
	}
	if got := testutil.ToFloat64(m.Backlog); got != 6 {
		t.Fatalf("backlog gauge %v before Run, want 6", got)
	}
	run(t, u)
	drain(t, u, 30*time.Second)
	got := rec.order()
	for i, it := range items {
		if i >= len(got) || got[i] != it.Key {
			t.Fatalf("Done order %v, want oldest first", got)
		}
		if _, err := os.Stat(it.Path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: spool file still there after Done", it.Path)
		}
	}
	checkStored(t, store, items, contents)
	if n := testutil.CollectAndCount(m.Latency); n != 1 {
		t.Errorf("latency histogram has %d series", n)
	}
	if got := testutil.ToFloat64(m.Uploaded); got != 6 {
		t.Errorf("uploaded counter %v, want 6", got)
	}
	if got := testutil.ToFloat64(m.Backlog); got != 0 {
		t.Errorf("backlog gauge %v after drain, want 0", got)
	}
}

func TestConfigValidate(t *testing.T) {
	store, _ := fs.New(t.TempDir())
	done := func(context.Context, uploader.Item) error { return nil }
	tests := []struct {
		name string
		cfg  uploader.Config
		ok   bool
	}{
		{"minimal", uploader.Config{Store: store, Done: done}, true},
		{"no store", uploader.Config{Done: done}, false},
		{"no done", uploader.Config{Store: store}, false},
		{"negative concurrency", uploader.Config{Store: store, Done: done, Concurrency: -1}, false},
		{"max below min backoff", uploader.Config{Store: store, Done: done, MinBackoff: time.Second, MaxBackoff: time.Millisecond}, false},
		{"negative timeout", uploader.Config{Store: store, Done: done, AttemptTimeout: -time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := uploader.New(tt.cfg)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, uploader.ErrConfig)) {
				t.Fatalf("New = %v, ok want %v", err, tt.ok)
			}
		})
	}
}
