package uploader_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/fs"
	s3store "github.com/mediaseal/mediaseal/storage/s3"
	"github.com/mediaseal/mediaseal/storage/uploader"
)

func newS3(t *testing.T, g *testenv.VersityGW) storage.Store {
	t.Helper()
	s, err := s3store.New(context.Background(), s3store.Config{
		Bucket: g.Bucket, Region: g.Region, Endpoint: g.Endpoint, PathStyle: true,
		AccessKeyID: g.AccessKey, SecretAccessKey: g.SecretKey,
		MaxAttempts: 1, // the uploader does the retrying
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStorageOutage takes the S3 server away while a backlog waits — paused
// (requests hang) or stopped (connections refused) — and checks that
// nothing is confirmed meanwhile, that failures are counted, and that after
// it returns everything is uploaded whole, oldest first, with every spool
// copy released exactly once.
func TestStorageOutage(t *testing.T) {
	for _, mode := range []string{"paused", "stopped"} {
		t.Run(mode, func(t *testing.T) {
			g := testenv.StartVersityGW(t)
			store := newS3(t, g)
			items := spoolFiles(t, 5, 300_000)
			contents := readAll(t, items)
			rec := &recorder{}
			m := uploader.NewMetrics(prometheus.NewRegistry())
			var omu sync.Mutex
			var outages []bool
			u, err := uploader.New(uploader.Config{
				Store: store, Done: rec.done, Concurrency: 1, Metrics: m,
				Outage:     func(down bool) { omu.Lock(); outages = append(outages, down); omu.Unlock() },
				MinBackoff: 50 * time.Millisecond, MaxBackoff: 400 * time.Millisecond,
				AttemptTimeout: 600 * time.Millisecond, // generous: CI shares 2 cores
			})
			if err != nil {
				t.Fatal(err)
			}
			if mode == "paused" {
				g.Pause()
			} else {
				g.Stop()
			}
			for _, it := range items {
				u.Enqueue(it)
			}
			run(t, u)
			time.Sleep(3 * time.Second)
			if got := rec.order(); len(got) != 0 {
				t.Fatalf("Done called during the outage for %v", got)
			}
			kind := map[string]string{"paused": "timeout", "stopped": "unavailable"}[mode]
			if n := testutil.ToFloat64(m.Errors.WithLabelValues(kind)); n < 2 {
				t.Fatalf("%s errors counted during the outage: %v, want retries", kind, n)
			}
			if n := testutil.ToFloat64(m.Backlog); n != 5 {
				t.Fatalf("backlog gauge %v during the outage, want 5", n)
			}
			if mode == "paused" {
				g.Resume()
			} else {
				g.Start()
			}
			start := time.Now()
			drain(t, u, 60*time.Second)
			t.Logf("%s: backlog of 5 drained %v after the store returned", mode, time.Since(start).Round(time.Millisecond))
			checkStored(t, store, items, contents)
			// One outage reported once, however many attempts failed in it.
			omu.Lock()
			if fmt.Sprint(outages) != "[true false]" {
				t.Errorf("outage transitions %v, want [true false]", outages)
			}
			omu.Unlock()
			got := rec.order()
			if len(got) != len(items) {
				t.Fatalf("Done called %d times, want %d", len(got), len(items))
			}
			for i, it := range items {
				if got[i] != it.Key {
					t.Fatalf("Done order %v, want oldest first", got)
				}
			}
		})
	}
}

// faultyStore wraps a real store to inject what a healthy backend cannot
// show: bytes corrupted on the way in.
type faultyStore struct {
	storage.Store
	mu     sync.Mutex
	faults []string // per Put, in order: "corrupt", "silent", "" (none)
	puts   atomic.Int32
}

func (f *faultyStore) Put(ctx context.Context, key string, r io.Reader, opts storage.PutOptions) (storage.ObjectInfo, error) {
	f.puts.Add(1)
	f.mu.Lock()
	fault := ""
	if len(f.faults) > 0 {
		fault, f.faults = f.faults[0], f.faults[1:]
	}
	f.mu.Unlock()
	if fault == "" {
		return f.Store.Put(ctx, key, r, opts)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	b[len(b)/2] ^= 0x80
	if fault == "silent" {
		// A backend that does not check: the corrupt object is stored.
		opts.SHA256 = ""
	}
	return f.Store.Put(ctx, key, bytes.NewReader(b), opts)
}

// TestChecksumMismatchIsRetried checks that a corrupted upload is never
// accepted: refused by the store (ErrChecksum) or stored corrupt and caught
// by the read-back, it is retried, and Done comes only for the whole file.
func TestChecksumMismatchIsRetried(t *testing.T) {
	real, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store := &faultyStore{Store: real, faults: []string{"corrupt", "silent", ""}}
	items := spoolFiles(t, 1, 50_000)
	contents := readAll(t, items)
	rec := &recorder{}
	m := uploader.NewMetrics(prometheus.NewRegistry())
	u, err := uploader.New(uploader.Config{Store: store, Done: rec.done, Metrics: m, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	u.Enqueue(items[0])
	run(t, u)
	drain(t, u, 30*time.Second)
	if n := store.puts.Load(); n != 3 {
		t.Errorf("%d Puts, want 3 (refused, stored corrupt, good)", n)
	}
	if n := testutil.ToFloat64(m.Errors.WithLabelValues("checksum")); n != 2 {
		t.Errorf("checksum errors %v, want 2", n)
	}
	if got := rec.order(); len(got) != 1 {
		t.Fatalf("Done called %d times, want once", len(got))
	}
	checkStored(t, real, items, contents)
}

// TestDoneFailureRetriesOnlyDone checks that a failing Done callback is
// called again without uploading the file again.
func TestDoneFailureRetriesOnlyDone(t *testing.T) {
	real, _ := fs.New(t.TempDir())
	store := &faultyStore{Store: real}
	items := spoolFiles(t, 1, 100)
	var calls atomic.Int32
	done := func(ctx context.Context, it uploader.Item) error {
		if calls.Add(1) < 3 {
			return errors.New("disk busy")
		}
		return os.Remove(it.Path)
	}
	u, _ := uploader.New(uploader.Config{Store: store, Done: done, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	u.Enqueue(items[0])
	run(t, u)
	drain(t, u, 30*time.Second)
	if calls.Load() != 3 || store.puts.Load() != 1 {
		t.Fatalf("Done called %d times with %d Puts; want 3 calls, 1 Put", calls.Load(), store.puts.Load())
	}
}

// TestPermanentFailuresAreReported checks that an item that can never be
// uploaded is reported, counted and taken out of the backlog, not retried
// forever nor dropped silently, and that it does not block the others.
func TestPermanentFailuresAreReported(t *testing.T) {
	store, _ := fs.New(t.TempDir())
	items := spoolFiles(t, 3, 100)
	items[0].Key = "acme/../escape.seal"
	if err := os.Remove(items[1].Path); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	var mu sync.Mutex
	failed := map[string]error{}
	m := uploader.NewMetrics(prometheus.NewRegistry())
	u, _ := uploader.New(uploader.Config{Store: store, Done: rec.done, Metrics: m, Failed: func(it uploader.Item, err error) {
		mu.Lock()
		defer mu.Unlock()
		failed[it.Key] = err
	}})
	for _, it := range items {
		u.Enqueue(it)
	}
	run(t, u)
	drain(t, u, 30*time.Second)
	if got := rec.order(); len(got) != 1 || got[0] != items[2].Key {
		t.Fatalf("Done for %v, want only %s", got, items[2].Key)
	}
	mu.Lock()
	defer mu.Unlock()
	if !errors.Is(failed[items[0].Key], storage.ErrInvalidKey) || failed[items[1].Key] == nil || len(failed) != 2 {
		t.Fatalf("Failed got %v", failed)
	}
	for _, kind := range []string{"invalid_key", "missing"} {
		if n := testutil.ToFloat64(m.Errors.WithLabelValues(kind)); n != 1 {
			t.Errorf("%s errors %v, want 1", kind, n)
		}
	}
	if _, err := os.Stat(items[0].Path); err != nil {
		t.Errorf("the spool file of a given-up item was touched: %v", err)
	}
}

// TestRunTwice checks the misuse guard and that Run, once stopped, leaves
// no goroutine behind.
func TestRunTwice(t *testing.T) {
	before := runtime.NumGoroutine()
	store, _ := fs.New(t.TempDir())
	u, _ := uploader.New(uploader.Config{Store: store, Done: func(context.Context, uploader.Item) error { return nil }})
	stop := run(t, u)
	time.Sleep(20 * time.Millisecond)
	if err := u.Run(context.Background()); !errors.Is(err, uploader.ErrRunning) {
		t.Fatalf("second Run = %v, want ErrRunning", err)
	}
	stop()
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Run returned, %d before", runtime.NumGoroutine(), before)
		}
	}
}

// TestPausedMidUpload pauses the S3 server while multipart uploads are in
// flight: the hung attempts time out, are retried after Resume, and every
// file arrives whole.
func TestPausedMidUpload(t *testing.T) {
	g := testenv.StartVersityGW(t)
	store := newS3(t, g)
	items := spoolFiles(t, 4, s3store.MinPartSize*2+1000) // three parts each
	contents := readAll(t, items)
	rec := &recorder{}
	m := uploader.NewMetrics(prometheus.NewRegistry())
	u, err := uploader.New(uploader.Config{
		Store: store, Done: rec.done, Metrics: m,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
		AttemptTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		u.Enqueue(it)
	}
	run(t, u)
	for deadline := time.Now().Add(30 * time.Second); len(rec.order()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no upload finished before the pause")
		}
	}
	g.Pause()
	time.Sleep(3 * time.Second)
	g.Resume()
	drain(t, u, 60*time.Second)
	checkStored(t, store, items, contents)
	if got := rec.order(); len(got) != len(items) {
		t.Fatalf("Done called %d times, want %d", len(got), len(items))
	}
	t.Logf("failed attempts during the pause: timeout %v, unavailable %v",
		testutil.ToFloat64(m.Errors.WithLabelValues("timeout")), testutil.ToFloat64(m.Errors.WithLabelValues("unavailable")))
}
