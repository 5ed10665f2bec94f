package seal

import "errors"

// Errors returned by this package. They are wrapped with detail (offsets,
// indices, lengths); match them with [errors.Is]. docs/format.md lists which
// tampering produces which error.
var (
	// ErrBadMagic: the object does not start with the seal magic.
	ErrBadMagic = errors.New("seal: not a seal object (bad magic)")
	// ErrUnsupportedVersion: a format version this package does not read.
	ErrUnsupportedVersion = errors.New("seal: unsupported format version")
	// ErrUnsupportedSuite: a cipher suite this package does not implement.
	ErrUnsupportedSuite = errors.New("seal: unsupported cipher suite")
	// ErrHeaderMalformed: the header (or a sidecar envelope) does not parse.
	ErrHeaderMalformed = errors.New("seal: malformed header")
	// ErrWrongKey: the key commitment does not match, so this DEK does not
	// open this recording (or the recording id or commitment was altered).
	ErrWrongKey = errors.New("seal: key does not open this recording")
	// ErrHeaderTampered: the right key, but the header MAC does not verify.
	ErrHeaderTampered = errors.New("seal: header authentication failed")

	// ErrChunkAuth: a chunk's prefix, ciphertext or tag was altered.
	ErrChunkAuth = errors.New("seal: chunk authentication failed")
	// ErrChunkOrder: an authentic chunk of this recording sits at the wrong
	// position (reordered, dropped or duplicated chunk).
	ErrChunkOrder = errors.New("seal: chunk out of order")
	// ErrChunkForeign: the chunk's clear recording tag names another
	// recording (a chunk spliced in from elsewhere).
	ErrChunkForeign = errors.New("seal: chunk from another recording")
	// ErrTruncated: the object ends before its final chunk.
	ErrTruncated = errors.New("seal: truncated")
	// ErrTrailingData: bytes follow the final chunk.
	ErrTrailingData = errors.New("seal: trailing data after final chunk")
	// ErrRecordMalformed: an authenticated chunk does not hold a valid record
	// sequence (only a writer holding the key can produce this: a bug).
	ErrRecordMalformed = errors.New("seal: malformed record in authenticated chunk")
	// ErrChunkRange: Chunk was asked for an index the object does not hold.
	ErrChunkRange = errors.New("seal: chunk index out of range")

	// ErrKeySize: the DEK is not 32 bytes.
	ErrKeySize = errors.New("seal: DEK must be 32 bytes")
	// ErrChunkTooLarge: a max chunk size outside [MinChunkSize, MaxChunkSizeLimit].
	ErrChunkTooLarge = errors.New("seal: chunk size out of range")
	// ErrHeaderInvalid: NewWriter was given a header it cannot encode
	// (field too long, too many tracks, unknown version or suite).
	ErrHeaderInvalid = errors.New("seal: invalid header")
	// ErrRecordTooLarge: a record does not fit in one chunk.
	ErrRecordTooLarge = errors.New("seal: record larger than a chunk")
	// ErrBadRecord: unknown record type, or a packet on an undeclared track.
	ErrBadRecord = errors.New("seal: invalid record")
	// ErrTooManyChunks: the recording reached MaxChunks.
	ErrTooManyChunks = errors.New("seal: too many chunks")
	// ErrClosed: the Writer was closed (or failed and is unusable).
	ErrClosed = errors.New("seal: writer closed")
)
