package whip

import "errors"

// Sentinel errors; returned wrapped with the offending value.
var (
	// ErrBadOffer: the SDP offer cannot be parsed or publishes nothing
	// mediaseal can record.
	ErrBadOffer = errors.New("whip: bad SDP offer")
	// ErrBadFrag: a trickle-ice-sdpfrag body cannot be parsed.
	ErrBadFrag = errors.New("whip: bad SDP fragment")
	// ErrBadMeta: call metadata in the query and headers is contradictory.
	ErrBadMeta = errors.New("whip: bad call metadata")
	// ErrConfig: the server configuration is invalid.
	ErrConfig = errors.New("whip: bad configuration")
)
