package codec

import (
	"fmt"
	"strings"
)

// DecodeFunc appends the PCM samples of one RTP payload to dst and returns
// the extended slice. The number of samples appended is the payload's
// duration in clock ticks.
type DecodeFunc func(dst []int16, payload []byte) []int16

// Lookup returns the decoder for an SDP encoding name (case-insensitive):
// "PCMU" or "PCMA". Any other name yields an error wrapping [ErrUnsupported].
func Lookup(name string) (DecodeFunc, error) {
	switch strings.ToUpper(name) {
	case "PCMU":
		return DecodeULaw, nil
	case "PCMA":
		return DecodeALaw, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupported, name)
}
