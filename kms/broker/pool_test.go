package broker

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/kms"
)

// TestPoolContextPerDEK: with NewContext every pooled DEK is wrapped under
// a context of its own, which the Result reports (and which unwraps it);
// a pool started after New by EnsurePool serves like one from the config,
// EnsurePool on a key that has a pool changes nothing, and DrainPool has
// the pool refilled with new DEKs.
func TestPoolContextPerDEK(t *testing.T) {
	f := newFixture(t)
	var n atomic.Int64
	spec := PoolSpec{Key: f.customer, Context: kms.EncryptionContext{"org": "org-1"}, Size: 3,
		NewContext: func() (kms.EncryptionContext, error) {
			return kms.EncryptionContext{"org": "org-1", "key": "customer", "dek": fmt.Sprint(n.Add(1))}, nil
		}}
	b := f.broker(t, Config{Timeout: 2 * time.Second})
	if err := b.EnsurePool(spec); err != nil {
		t.Fatal(err)
	}
	if err := b.EnsurePool(spec); err != nil {
		t.Fatal(err)
	}
	waitPool(t, b, f.customer, 3)
	seen := map[string]bool{}
	for i := range 3 {
		res, err := b.Acquire(context.Background(), Request{Key: f.customer, Context: recCtx(fmt.Sprint("r", i)), OnKeyUnavailable: FailClosed}).Result()
		if err != nil || !res.Pooled {
			t.Fatalf("request %d: %+v, %v", i, res, err)
		}
		if id := res.Context["dek"]; id == "" || seen[id] || res.Context["org"] != "org-1" {
			t.Fatalf("request %d: context %v (seen %v)", i, res.Context, seen)
		}
		seen[res.Context["dek"]] = true
		f.checkUnwraps(t, res)
	}
	waitPool(t, b, f.customer, 3)  // refilled by the workers
	if got := n.Load(); got != 6 { // slots: never more DEKs than the pool holds
		t.Fatalf("%d DEKs generated for a pool of 3 used 3 times", got)
	}
	b.DrainPool(f.customer)
	waitPool(t, b, f.customer, 3) // refilled with new DEKs
	if got := n.Load(); got < 9 {
		t.Fatalf("%d DEKs generated after a drain, want the pool's 3 anew", got)
	}
	b.Close()
	if err := b.EnsurePool(spec); err == nil {
		t.Fatal("EnsurePool after Close")
	}
}

// TestRetirePool: a retired pool is emptied and not refilled (no DEK is
// generated under the key any more), and the key served by a new pool once
// EnsurePool asks for one again.
func TestRetirePool(t *testing.T) {
	f := newFixture(t)
	var n atomic.Int64
	spec := PoolSpec{Key: f.customer, Context: kms.EncryptionContext{"org": "org-1"}, Size: 3,
		NewContext: func() (kms.EncryptionContext, error) {
			return kms.EncryptionContext{"org": "org-1", "dek": fmt.Sprint(n.Add(1))}, nil
		}}
	b := f.broker(t, Config{Timeout: 2 * time.Second})
	if err := b.EnsurePool(spec); err != nil {
		t.Fatal(err)
	}
	waitPool(t, b, f.customer, 3)
	b.RetirePool(f.customer)
	if got := b.PoolLen(f.customer); got != 0 {
		t.Fatalf("PoolLen after RetirePool = %d, want 0", got)
	}
	generated := n.Load()
	time.Sleep(300 * time.Millisecond) // a refill would have run by now
	if got := n.Load(); got != generated || b.PoolLen(f.customer) != 0 {
		t.Fatalf("retired pool refilled: %d DEKs generated after retirement, %d pooled", got-generated, b.PoolLen(f.customer))
	}
	b.RetirePool(f.customer) // no pool: nothing happens
	if err := b.EnsurePool(spec); err != nil {
		t.Fatal(err)
	}
	waitPool(t, b, f.customer, 3)
	b.Close()
}
