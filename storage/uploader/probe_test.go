package uploader_test

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/fs"
	"github.com/mediaseal/mediaseal/storage/uploader"
)

// returningStore wraps a real store to show what versitygw cannot show on
// demand: an outage whose first request after the store returns is slow
// (the SDK retries inside one attempt when it raced the restart), and how
// many Puts overlap.
type returningStore struct {
	storage.Store
	slowKey string        // its first Put once the store is back
	slow    time.Duration // takes this long

	mu       sync.Mutex
	down     bool
	failed   bool // a Put has failed: the uploader knows of the outage
	puts     int  // Puts started
	probes   int  // Puts in flight that started while down, after a failure
	overlap  int  // most such Puts in flight together
	slowDone bool
}

func (s *returningStore) Put(ctx context.Context, key string, r io.Reader, opts storage.PutOptions) (storage.ObjectInfo, error) {
	s.mu.Lock()
	s.puts++
	down := s.down
	probe := down && s.failed
	if probe {
		s.probes++
		s.overlap = max(s.overlap, s.probes)
	}
	slow := !down && key == s.slowKey && !s.slowDone
	s.slowDone = s.slowDone || slow
	s.mu.Unlock()
	if slow {
		time.Sleep(s.slow)
	}
	if !down {
		return s.Store.Put(ctx, key, r, opts)
	}
	time.Sleep(30 * time.Millisecond) // a refused connection, retried by the SDK
	s.mu.Lock()
	s.failed = true
	if probe {
		s.probes--
	}
	s.mu.Unlock()
	return storage.ObjectInfo{}, fmt.Errorf("put %s: %w", key, storage.ErrUnavailable)
}

func (s *returningStore) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

func (s *returningStore) stats() (puts, overlap int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.puts, s.overlap
}

// TestOneProbeAfterOutage checks that while the store is down the workers
// probe it one at a time, always with the oldest file, so that the oldest
// recording is the first confirmed when the store returns even when that
// first attempt is much slower than the uploads after it.
func TestOneProbeAfterOutage(t *testing.T) {
	real, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	items := spoolFiles(t, 6, 1000)
	contents := readAll(t, items)
	store := &returningStore{Store: real, down: true, slowKey: items[0].Key, slow: 500 * time.Millisecond}
	rec := &recorder{}
	u, err := uploader.New(uploader.Config{Store: store, Done: rec.done, Concurrency: 3,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 80 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		u.Enqueue(it)
	}
	run(t, u)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if puts, _ := store.stats(); puts >= 12 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the uploader stopped trying while the store was down")
		}
	}
	store.setDown(false)
	drain(t, u, 30*time.Second)
	if _, overlap := store.stats(); overlap != 1 {
		t.Errorf("%d Puts in flight together after the store failed, want one probe at a time", overlap)
	}
	got := rec.order()
	if len(got) != len(items) || got[0] != items[0].Key {
		t.Fatalf("Done order %v, want %s first", got, items[0].Key)
	}
	checkStored(t, real, items, contents)
}
