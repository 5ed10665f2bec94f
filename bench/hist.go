package bench

import (
	"math"
	"math/bits"
	"time"
)

// subBuckets per power of two: quantiles are exact to about 1/16 (6 %).
const subBits = 4

// Hist is a log-linear histogram of non-negative durations in nanoseconds:
// constant memory however many samples, mergeable across goroutines after
// they finish. Negative values (clock skew) are counted in the lowest bucket.
type Hist struct {
	counts [64 << subBits]uint64
	n      uint64
	max    int64
	sum    float64
}

func bucketOf(v int64) int {
	if v < 1<<subBits {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	e := bits.Len64(uint64(v)) - 1 // v in [2^e, 2^(e+1))
	sub := int(uint64(v)>>(uint(e)-subBits)) & (1<<subBits - 1)
	return (e-subBits+1)<<subBits + sub
}

// bucketUpper is the largest value that falls in bucket i.
func bucketUpper(i int) int64 {
	if i < 1<<subBits {
		return int64(i)
	}
	e := i>>subBits + subBits - 1
	sub := int64(i & (1<<subBits - 1))
	lo := int64(1)<<e + sub<<(e-subBits)
	return lo + int64(1)<<(e-subBits) - 1
}

// Add records one sample.
func (h *Hist) Add(v int64) {
	h.counts[bucketOf(v)]++
	h.n++
	h.sum += float64(v)
	if v > h.max {
		h.max = v
	}
}

// Merge adds o's samples.
func (h *Hist) Merge(o *Hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// Count is the number of samples.
func (h *Hist) Count() uint64 { return h.n }

// Max is the largest sample.
func (h *Hist) Max() time.Duration { return time.Duration(h.max) }

// Quantile returns the q-quantile (0 < q ≤ 1), as the upper bound of its
// bucket capped at the maximum seen; 0 with no samples.
func (h *Hist) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketUpper(i), h.max))
		}
	}
	return time.Duration(h.max)
}

// Summary is a histogram's figures in milliseconds, for reports.
type Summary struct {
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
	N   uint64  `json:"samples"`
}

// Summarize reduces h to p50/p99/max in milliseconds.
func (h *Hist) Summarize() Summary {
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
	return Summary{P50: ms(h.Quantile(0.5)), P99: ms(h.Quantile(0.99)), Max: ms(h.Max()), N: h.n}
}
