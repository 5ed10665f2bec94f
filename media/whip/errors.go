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

// Error codes of WHIP's refusals (the body is httpx.Error) besides
// httpx's shared ones.
const (
	CodeInvalidOffer       = "invalid_offer"
	CodeInvalidMetadata    = "invalid_metadata"
	CodeInvalidFragment    = "invalid_fragment"
	CodeInvalidSession     = "invalid_session"
	CodeICERestartRequired = "ice_restart_required"
	CodeCandidateNotUsable = "candidate_not_usable"
	CodeICERestartFailed   = "ice_restart_failed"
	CodeCapacity           = "capacity"
	CodeSpool              = "spool_unavailable"
)
