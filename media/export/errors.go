package export

import "errors"

// Sentinel errors; returned wrapped with the offending value.
var (
	// ErrBadHeader: the header cannot describe a recording (no clock rate,
	// too many tracks, ...).
	ErrBadHeader = errors.New("export: bad header")
	// ErrNoTrack: no track carries the requested label.
	ErrNoTrack = errors.New("export: no such track")
	// ErrNotDecodable: the track's codec cannot be decoded to PCM.
	ErrNotDecodable = errors.New("export: track cannot be decoded to PCM")
	// ErrCodec: the track's codec does not suit the output format (Ogg
	// Opus needs opus, IVF needs VP8).
	ErrCodec = errors.New("export: codec does not suit the format")
	// ErrRateMismatch: tracks to be mixed into one file have different
	// clock rates.
	ErrRateMismatch = errors.New("export: clock rates differ")
	// ErrTooLong: a rebuilt track would exceed the configured maximum
	// duration (a corrupt or hostile timestamp or arrival time).
	ErrTooLong = errors.New("export: track too long")
	// ErrTooLarge: the output does not fit the file format (WAV's 4 GiB).
	ErrTooLarge = errors.New("export: output too large for format")
	// ErrOrder: a timeline writer was fed a packet before the point it
	// had already written out.
	ErrOrder = errors.New("export: packet out of feed order")
	// ErrChanged: a later read of a recording ([StreamWAV]) did not read
	// what its plan pass read.
	ErrChanged = errors.New("export: recording changed between passes")
)
