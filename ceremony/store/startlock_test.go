package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// TestWithLockExcludesOtherStores holds the first-start lock from several
// stores on one database at once (as several gateways do): never two
// inside at a time, a waiter gives up with its context, and the lock is
// free again after fn fails.
func TestWithLockExcludesOtherStores(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, cfg store.Config) {
		stores := []*store.SQL{s, openStore(t, cfg), openStore(t, cfg)}
		var inside, most, runs atomic.Int32
		var wg sync.WaitGroup
		for _, st := range stores {
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := st.WithLock(context.Background(), store.LockFirstStart, func(context.Context) error {
						n := inside.Add(1)
						for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
						}
						time.Sleep(20 * time.Millisecond)
						inside.Add(-1)
						runs.Add(1)
						return nil
					})
					if err != nil {
						t.Error(err)
					}
				}()
			}
		}
		wg.Wait()
		if most.Load() != 1 || runs.Load() != 6 {
			t.Fatalf("%d holders at once (want 1), %d runs (want 6)", most.Load(), runs.Load())
		}

		// While one store holds it, another's wait ends with its context.
		held, release := make(chan struct{}), make(chan struct{})
		go func() {
			_ = stores[0].WithLock(context.Background(), store.LockFirstStart, func(context.Context) error {
				close(held)
				<-release
				return errors.New("seed failed")
			})
		}()
		<-held
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		err := stores[1].WithLock(ctx, store.LockFirstStart, func(context.Context) error {
			t.Error("ran while another store held the lock")
			return nil
		})
		if err == nil {
			t.Fatal("waiting for a held lock ended without an error")
		}
		close(release)
		// fn's failure released it: the next holder gets it at once.
		ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel2()
		ran := false
		if err := stores[2].WithLock(ctx2, store.LockFirstStart, func(context.Context) error { ran = true; return nil }); err != nil || !ran {
			t.Fatalf("lock after a failed holder: ran %v, %v", ran, err)
		}
	})
}
