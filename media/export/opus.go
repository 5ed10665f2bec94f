package export

import "fmt"

// opusSamples returns the duration at 48 kHz of one Opus packet from its
// TOC byte and frame count (RFC 6716 §3.1), or an error for a packet that
// is empty or claims more than the 120 ms an Opus packet may hold.
func opusSamples(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, fmt.Errorf("empty Opus packet")
	}
	config := int(p[0] >> 3)
	var frame int // samples per frame at 48 kHz
	switch {
	case config < 12: // SILK-only: 10, 20, 40, 60 ms
		frame = [4]int{480, 960, 1920, 2880}[config%4]
	case config < 16: // hybrid: 10, 20 ms
		frame = [2]int{480, 960}[config%2]
	default: // CELT-only: 2.5, 5, 10, 20 ms
		frame = [4]int{120, 240, 480, 960}[config%4]
	}
	var frames int
	switch p[0] & 3 {
	case 0:
		frames = 1
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 {
			return 0, fmt.Errorf("Opus code 3 packet without frame count")
		}
		frames = int(p[1] & 0x3F)
	}
	n := frame * frames
	if n == 0 || n > 5760 {
		return 0, fmt.Errorf("Opus packet of %d frames of %d samples", frames, frame)
	}
	return n, nil
}

// Opus silence packets: CELT-only fullband mono, one frame, whose range
// coded payload sets the silence flag. Decoders output digital silence.
var (
	opusSilence20ms  = []byte{0xF8, 0xFF, 0xFE} // config 31: 20 ms
	opusSilence2_5ms = []byte{0xE0, 0xFF, 0xFE} // config 28: 2.5 ms
)
