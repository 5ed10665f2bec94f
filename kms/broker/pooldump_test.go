package broker

import (
	"context"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/secmem"
)

// TestPooledDEKsOutOfDumps: a DEK waiting in a pool is held only in a
// secmem buffer the kernel leaves out of core dumps (no heap plaintext),
// and comes out whole: the recording gets a DEK its wrapped form unwraps to.
func TestPooledDEKsOutOfDumps(t *testing.T) {
	f := newFixture(t)
	poolCtx := kms.EncryptionContext{"org": "org-1"}
	b := f.broker(t, Config{Timeout: 2 * time.Second, Pools: []PoolSpec{{Key: f.customer, Context: poolCtx, Size: 2}}})
	waitPool(t, b, f.customer, 2)
	b.mu.Lock()
	p := b.pools[f.customer]
	b.mu.Unlock()
	// refill waits for a free slot (only take frees one): safe to look and put back.
	parked := []pooledKey{<-p.ch, <-p.ch}
	for i, k := range parked {
		if k.dk.Plaintext != nil {
			t.Fatalf("pooled DEK %d has a heap plaintext", i)
		}
		dd, _, err := secmem.Flags(k.buf.Bytes())
		if err != nil || !dd {
			t.Fatalf("pooled DEK %d: dontdump %v, %v", i, dd, err)
		}
		p.ch <- k
	}
	res, err := b.Acquire(context.Background(), Request{Key: f.customer, Context: kms.EncryptionContext{"org": "org-1", "recording": "r"}, OnKeyUnavailable: FailClosed}).Result()
	if err != nil || !res.Pooled || len(res.DataKey.Plaintext) != 32 {
		t.Fatalf("pooled acquire: %+v, %v", res, err)
	}
	f.checkUnwraps(t, res)
}
