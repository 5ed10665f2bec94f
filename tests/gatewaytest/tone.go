package gatewaytest

import "math"

// Goertzel is the power of freq (Hz) in 8 kHz samples: which of two
// tones a stretch of an exported channel carries.
func Goertzel(samples []int16, freq float64) float64 {
	k := 2 * math.Cos(2*math.Pi*freq/8000)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + k*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - k*s1*s2
}

// RMS is the root mean square of samples: silence is near 0.
func RMS(s []int16) float64 {
	var sum float64
	for _, x := range s {
		sum += float64(x) * float64(x)
	}
	return math.Sqrt(sum / float64(max(len(s), 1)))
}
