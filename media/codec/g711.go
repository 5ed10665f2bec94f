package codec

import (
	"math/bits"
	"slices"
)

// G.711 works on sign + 3-bit segment (exponent) + 4-bit step (mantissa).
// μ-law transmits the bitwise complement of that byte; A-law transmits it
// XORed with 0x55 (every even bit inverted), the sign bit set for positive.

const (
	ulawBias = 0x84  // 132: added before finding the segment, removed after
	ulawClip = 32635 // largest magnitude that survives the bias without overflow
)

// ulawTable and alawTable hold the decoded value of every code byte.
var (
	ulawTable = buildTable(ulawDecode)
	alawTable = buildTable(alawDecode)
)

func buildTable(f func(byte) int16) *[256]int16 {
	var t [256]int16
	for i := range t {
		t[i] = f(byte(i))
	}
	return &t
}

// ulawDecode is the G.711 μ-law expansion: magnitude = ((2·step+33) << seg) - 33
// in 14-bit units, scaled here to 16 bits (×4) as ((step<<3)+132)<<seg - 132.
func ulawDecode(u byte) int16 {
	u = ^u
	seg := (u >> 4) & 0x07
	mag := ((int32(u&0x0F) << 3) + ulawBias) << seg
	mag -= ulawBias
	if u&0x80 != 0 {
		return int16(-mag)
	}
	return int16(mag)
}

// alawDecode is the G.711 A-law expansion in 13-bit units scaled to 16 bits
// (×8): segment 0 is linear with a half-step offset, higher segments double.
func alawDecode(a byte) int16 {
	a ^= 0x55
	seg := (a >> 4) & 0x07
	mag := int32(a&0x0F)<<4 + 8
	if seg > 0 {
		mag = (mag + 0x100) << (seg - 1)
	}
	if a&0x80 != 0 {
		return int16(mag)
	}
	return int16(-mag)
}

// ULawToLinear decodes one μ-law byte.
func ULawToLinear(u byte) int16 { return ulawTable[u] }

// ALawToLinear decodes one A-law byte.
func ALawToLinear(a byte) int16 { return alawTable[a] }

// DecodeULaw appends the PCM of a μ-law payload (one sample per byte) to dst.
func DecodeULaw(dst []int16, payload []byte) []int16 {
	return decodeWith(ulawTable, dst, payload)
}

// DecodeALaw appends the PCM of an A-law payload (one sample per byte) to dst.
func DecodeALaw(dst []int16, payload []byte) []int16 {
	return decodeWith(alawTable, dst, payload)
}

func decodeWith(t *[256]int16, dst []int16, payload []byte) []int16 {
	n := len(dst)
	dst = slices.Grow(dst, len(payload))[:n+len(payload)] // no temporary, whatever the build
	out := dst[n:]
	for i, b := range payload {
		out[i] = t[b]
	}
	return dst
}

// LinearToULaw encodes one sample to μ-law (ITU-T G.711, with the usual
// clipping at ±32635).
func LinearToULaw(s int16) byte {
	v := int32(s)
	var sign byte
	if v < 0 {
		sign = 0x80
		v = -v
	}
	v = min(v, ulawClip) + ulawBias // now in [0x84, 0x7FFF]
	seg := byte(bits.Len32(uint32(v>>7)) - 1)
	step := byte(v>>(seg+3)) & 0x0F
	return ^(sign | seg<<4 | step)
}

// LinearToALaw encodes one sample to A-law (ITU-T G.711).
func LinearToALaw(s int16) byte {
	v := int32(s) >> 3 // 13-bit
	mask := byte(0xD5) // positive: sign bit set, even bits inverted
	if v < 0 {
		mask = 0x55
		v = -v - 1
	}
	seg := 0
	if v >= 0x20 {
		seg = bits.Len32(uint32(v >> 5)) // v in [32·2^(seg-1), 32·2^seg)
	}
	if seg > 7 {
		return 0x7F ^ mask
	}
	var step int32
	if seg < 2 {
		step = (v >> 1) & 0x0F
	} else {
		step = (v >> seg) & 0x0F
	}
	return (byte(seg)<<4 | byte(step)) ^ mask
}
