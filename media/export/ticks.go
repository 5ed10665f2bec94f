package export

import (
	"math"
	"math/bits"
)

// tickLimit bounds every converted value so a few of them can be added
// without overflowing int64; anything near it fails the duration check.
const tickLimit = math.MaxInt64 / 16

// nsToTicks converts nanoseconds to clock ticks at rate, rounding to nearest.
func nsToTicks(ns int64, rate uint32) int64 {
	return scale(ns, uint64(rate), 1e9)
}

// ticksToNS converts clock ticks at rate to nanoseconds, rounding to nearest.
func ticksToNS(ticks int64, rate uint32) int64 {
	return scale(ticks, 1e9, uint64(rate))
}

// scale returns round(v*mul/div) saturated to ±tickLimit, in 128-bit
// arithmetic so that neither large arrivals nor high clock rates overflow.
func scale(v int64, mul, div uint64) int64 {
	if div == 0 {
		return 0
	}
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u
	}
	hi, lo := bits.Mul64(u, mul)
	lo, carry := bits.Add64(lo, div/2, 0)
	hi += carry
	if hi >= div {
		return saturate(neg)
	}
	q, _ := bits.Div64(hi, lo, div)
	if q > tickLimit {
		return saturate(neg)
	}
	if neg {
		return -int64(q)
	}
	return int64(q)
}

func saturate(neg bool) int64 {
	if neg {
		return -tickLimit
	}
	return tickLimit
}
