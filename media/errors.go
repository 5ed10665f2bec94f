package media

import "errors"

var (
	// ErrNotFound means no session has the given id.
	ErrNotFound = errors.New("media: session not found")
	// ErrBadRequest means a session request is invalid; wrapped with the field.
	ErrBadRequest = errors.New("media: invalid session request")
	// ErrSRTPRequired: a recorded session has a plain RTP track where the
	// gateway (media.srtp: required) or the call's policy (requireSrtp)
	// requires SRTP.
	ErrSRTPRequired = errors.New("media: SRTP required")
	// ErrCapacity means the gateway cannot take another session now
	// (session limit, no free ports, spool full).
	ErrCapacity = errors.New("media: at capacity")
	// ErrClosed means the manager is shutting down.
	ErrClosed = errors.New("media: shutting down")
	// ErrKeyUnavailable means the policy fails closed and no DEK could be obtained.
	ErrKeyUnavailable = errors.New("media: recording key unavailable, policy fails closed")
)
