package siprec

import (
	"errors"
	"fmt"

	"github.com/mediaseal/mediaseal/media"
)

// Sentinel errors; each maps to the SIP status the SRC receives.
var (
	// ErrBody: the body is not a well-formed multipart/mixed (400).
	ErrBody = errors.New("siprec: malformed body")
	// ErrMediaType: the body or one of its parts has a type the SRS does not take (415).
	ErrMediaType = errors.New("siprec: unsupported media type")
	// ErrNoMetadata: the recording session carries no rs-metadata (400).
	ErrNoMetadata = errors.New("siprec: missing recording metadata")
	// ErrNoSDP: the recording session carries no SDP offer (400).
	ErrNoSDP = errors.New("siprec: missing SDP")
	// ErrMetadata: the metadata is not valid RFC 7865 XML (400).
	ErrMetadata = errors.New("siprec: invalid recording metadata")
	// ErrSDP: the SDP cannot be parsed (400).
	ErrSDP = errors.New("siprec: invalid SDP")
	// ErrUnknownStream: SDP and metadata disagree about a stream (400).
	ErrUnknownStream = errors.New("siprec: unknown stream")
	// ErrNoCodec: no media line offers a codec the SRS records (488).
	ErrNoCodec = errors.New("siprec: no usable codec")
	// ErrSRTPOffer: the only recordable lines are SRTP, which the SRS
	// declines rather than record ciphertext (488).
	ErrSRTPOffer = fmt.Errorf("%w: SRTP offered", ErrNoCodec)
)

// Status is the SIP status and reason phrase for err (500 when unknown).
func Status(err error) (int, string) {
	switch {
	case errors.Is(err, ErrMediaType):
		return 415, "Unsupported Media Type"
	case errors.Is(err, ErrNoCodec), errors.Is(err, media.ErrSRTPRequired):
		return 488, "Not Acceptable Here"
	case errors.Is(err, media.ErrBadRequest):
		// e.g. no usable c= address while media.requireSource is on.
		return 488, "Not Acceptable Here"
	case errors.Is(err, ErrBody), errors.Is(err, ErrNoMetadata), errors.Is(err, ErrNoSDP),
		errors.Is(err, ErrMetadata), errors.Is(err, ErrSDP), errors.Is(err, ErrUnknownStream):
		return 400, "Bad Request"
	}
	return 500, "Server Internal Error"
}

func wrap(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
