package ng

import "errors"

var (
	// ErrMalformed means a bencoded value or an NG reply could not be parsed.
	ErrMalformed = errors.New("ng: malformed message")
	// ErrUnsupported means a value of a type bencode cannot carry was marshalled.
	ErrUnsupported = errors.New("ng: unsupported value")
	// ErrFailed means rtpengine answered a request with an error result.
	ErrFailed = errors.New("ng: request failed")
	// ErrTimeout means rtpengine did not answer a request in time.
	ErrTimeout = errors.New("ng: no reply")
	// ErrNoMedia means an SDP held no usable media section.
	ErrNoMedia = errors.New("ng: no media in SDP")
	// ErrClosed means the client was closed.
	ErrClosed = errors.New("ng: client closed")
)
