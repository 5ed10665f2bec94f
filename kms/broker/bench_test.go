package broker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/kms"
)

// BenchmarkAcquire measures session-start latency (Acquire to DEK) against
// a real local-kms on loopback:
//
//   - direct: every request goes to the KMS;
//   - pooled: every request is served from a full pre-fetch pool (refill
//     time is excluded: the timer stops while the pool refills);
//   - pooled-saturated: back-to-back requests, the pool refilling in the
//     background; requests it cannot keep up with go to the KMS
//     (pooled-fraction says how many were served from the pool).
func BenchmarkAcquire(b *testing.B) {
	f := newFixture(b)
	poolCtx := kms.EncryptionContext{"org": "org-1", "policy": "pci"}
	const size = 64
	waitFull := func(br *Broker) {
		for br.PoolLen(f.customer) < size {
			time.Sleep(5 * time.Millisecond)
		}
	}
	for _, tc := range []struct {
		name   string
		pooled bool
		refill bool // stop the timer and refill whenever the pool is empty
	}{
		{"direct", false, false},
		{"pooled", true, true},
		{"pooled-saturated", true, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := Config{}
			if tc.pooled {
				cfg.Pools = []PoolSpec{{Key: f.customer, Context: poolCtx, Size: size}}
			}
			br := f.broker(b, cfg)
			if tc.pooled {
				waitFull(br)
			}
			pooled := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if tc.refill && br.PoolLen(f.customer) == 0 {
					b.StopTimer()
					waitFull(br)
					b.StartTimer()
				}
				res, err := br.Acquire(context.Background(), Request{Key: f.customer, Context: recCtx(fmt.Sprint(i))}).Result()
				if err != nil || res.Fallback {
					b.Fatalf("%+v, %v", res, err)
				}
				if res.Pooled {
					pooled++
				}
			}
			b.ReportMetric(float64(pooled)/float64(b.N), "pooled-fraction")
		})
	}
}
