package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
)

// Format constants. docs/format.md is the normative description.
const (
	// Version1 headers record no KMS encryption context: the DEK was
	// wrapped under the legacy context {org, recording, policy}.
	Version1 = 1
	// Version2 headers record, authenticated, the KMS encryption context
	// the DEK was wrapped under ([Header.KMSContext]), so a DEK generated
	// ahead of its recording (a pooled DEK) can be unwrapped later.
	Version2 = 2
	// SuiteAES256GCM is AES-256-GCM chunks with HKDF-SHA-256 key derivation
	// and an HMAC-SHA-256 header MAC.
	SuiteAES256GCM = 1

	// DefaultMaxChunkSize is the default maximum plaintext size of a chunk.
	DefaultMaxChunkSize = 64 << 10
	// MinChunkSize and MaxChunkSizeLimit bound the max chunk size.
	MinChunkSize      = 64
	MaxChunkSizeLimit = 16 << 20

	// MaxContextSize bounds the encoded encryption context.
	MaxContextSize = 64 << 10
	// MaxEnvelopeSize bounds the encoded key envelope.
	MaxEnvelopeSize = 16 << 10
	// MaxTracks is the number of tracks a record's uint8 track index can name.
	MaxTracks = 256
)

// magic opens every seal object: a non-ASCII first byte and CR LF / ^Z
// catch text-mode mangling, as in PNG.
const magic = "\x89seal\r\n\x1a"

// Byte layout of the fixed part of the header.
const (
	offVersion    = 8
	offSuite      = 9
	offReserved   = 10
	offMaxChunk   = 12
	offRecID      = 16
	offContextLen = 48
	offEnvCap     = 52
	fixedLen      = 56

	commitmentLen = 32
	macLen        = 32
	envLenLen     = 4 // the uint32 in front of the envelope inside its area
	minEnvCap     = 1024
)

// Track describes one media track of the recording.
type Track struct {
	Label       string // "caller", "agent"
	Kind        string // "audio" | "video"
	Codec       string // "PCMU", "PCMA", "opus", "VP8", "H264", "telephone-event"
	ClockRate   uint32
	PayloadType uint8
}

// Context is the encryption context bound into the header (authenticated, clear).
type Context struct {
	OrgID, CallID, QueueID, PolicyID string
	PolicyVersion                    int64
	Direction                        string
	StartedAt                        int64 // unix nanoseconds
	Tracks                           []Track
}

// KeyRef names the KMS key that wrapped the DEK.
type KeyRef struct {
	Provider   string // "local", "aws-kms", "pkcs11", "vault"
	KeyID      string // key id / ARN / label
	KeyVersion string
	Fallback   bool // true when a platform key was used because the customer key was unavailable
}

// Envelope is the replaceable key envelope: NOT covered by the header MAC so
// that a rewrap can supersede it (sidecar object / index row, see
// [MarshalEnvelope]) without rewriting chunks. The wrapped DEK is
// authenticated by the KMS itself; a DEK that unwraps wrongly fails the key
// commitment (ErrWrongKey).
type Envelope struct {
	Key        KeyRef
	WrappedDEK []byte
}

// Header is the parsed header of a seal object.
type Header struct {
	Version      uint8
	Suite        uint8
	MaxChunkSize uint32
	RecordingID  [32]byte
	Context      Context
	// KMSContext is the KMS encryption context the DEK was wrapped under
	// (version 2; nil in version 1). It is authenticated with the rest of
	// the header, but only once the DEK is known: a reader must check what
	// it claims (org, policy) against its own records before asking the
	// KMS to unwrap under it.
	KMSContext map[string]string
	Envelope   Envelope
}

// NewRecordingID returns 32 random bytes.
func NewRecordingID() ([32]byte, error) {
	var id [32]byte
	_, err := rand.Read(id[:])
	return id, err
}

// rawHeader is a header as laid out on the wire, with the offsets the key
// schedule and the reader need.
type rawHeader struct {
	h       Header
	bytes   []byte // the whole header
	authLen int    // bytes[:authLen] is covered by the MAC (magic .. commitment)
	commit  []byte // bytes[authLen-32:authLen]
	mac     []byte // bytes[authLen:authLen+32]
	envCap  int
}

// encodeHeader lays out h with a zero commitment and MAC; the writer fills
// them in once the keys are derived.
func encodeHeader(h *Header) (*rawHeader, error) {
	var ctx, env encoder
	ctx.context(&h.Context)
	switch {
	case h.Version == Version2:
		ctx.kmsContext(h.KMSContext)
	case h.KMSContext != nil:
		return nil, fmt.Errorf("%w: version %d records no kms context", ErrHeaderInvalid, h.Version)
	}
	env.envelope(&h.Envelope)
	if ctx.err != nil {
		return nil, fmt.Errorf("%w: context: %v", ErrHeaderInvalid, ctx.err)
	}
	if env.err != nil {
		return nil, fmt.Errorf("%w: envelope: %v", ErrHeaderInvalid, env.err)
	}
	if len(ctx.b) > MaxContextSize {
		return nil, fmt.Errorf("%w: context is %d bytes, limit %d", ErrHeaderInvalid, len(ctx.b), MaxContextSize)
	}
	if len(env.b) > MaxEnvelopeSize {
		return nil, fmt.Errorf("%w: envelope is %d bytes, limit %d", ErrHeaderInvalid, len(env.b), MaxEnvelopeSize)
	}
	// The envelope area keeps room so that a rewrap can replace the envelope
	// in place (ReplaceEnvelope) with a somewhat longer wrapped DEK or ARN.
	envCap := max(minEnvCap, (envLenLen+len(env.b)+255)&^255+256)

	b := make([]byte, 0, fixedLen+len(ctx.b)+commitmentLen+macLen+envCap)
	b = append(b, magic...)
	b = append(b, h.Version, h.Suite, 0, 0)
	b = binary.BigEndian.AppendUint32(b, h.MaxChunkSize)
	b = append(b, h.RecordingID[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(ctx.b)))
	b = binary.BigEndian.AppendUint32(b, uint32(envCap))
	b = append(b, ctx.b...)
	b = append(b, make([]byte, commitmentLen+macLen)...)
	authLen := len(b) - macLen
	b = binary.BigEndian.AppendUint32(b, uint32(len(env.b)))
	b = append(b, env.b...)
	b = append(b, make([]byte, authLen+macLen+envCap-len(b))...)
	return &rawHeader{
		h: *h, bytes: b, authLen: authLen, envCap: envCap,
		commit: b[authLen-commitmentLen : authLen],
		mac:    b[authLen : authLen+macLen],
	}, nil
}

// ParseHeader reads and parses the header without a key, so that a caller can
// route the object to the right KMS key. It consumes exactly the header's
// bytes from r. Nothing it returns is authenticated yet: NewReader verifies
// the header with the DEK.
func ParseHeader(r io.Reader) (*Header, error) {
	raw, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	return &raw.h, nil
}

func readHeader(r io.Reader) (*rawHeader, error) {
	var fixed [fixedLen]byte
	if n, err := io.ReadFull(r, fixed[:]); err != nil {
		// A short object that is still a prefix of the magic is a
		// truncated seal object; anything else is not one of ours.
		m := min(n, len(magic))
		if string(fixed[:m]) != magic[:m] {
			return nil, ErrBadMagic
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: header: %d of %d fixed bytes", ErrTruncated, n, fixedLen)
		}
		return nil, err
	}
	if string(fixed[:len(magic)]) != magic {
		return nil, ErrBadMagic
	}
	version := fixed[offVersion]
	if version != Version1 && version != Version2 {
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedVersion, version)
	}
	if s := fixed[offSuite]; s != SuiteAES256GCM {
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedSuite, s)
	}
	if fixed[offReserved] != 0 || fixed[offReserved+1] != 0 {
		return nil, fmt.Errorf("%w: reserved bytes not zero", ErrHeaderMalformed)
	}
	maxChunk := binary.BigEndian.Uint32(fixed[offMaxChunk:])
	if maxChunk < MinChunkSize || maxChunk > MaxChunkSizeLimit {
		return nil, fmt.Errorf("%w: max chunk size %d", ErrHeaderMalformed, maxChunk)
	}
	ctxLen := binary.BigEndian.Uint32(fixed[offContextLen:])
	envCap := binary.BigEndian.Uint32(fixed[offEnvCap:])
	if ctxLen > MaxContextSize {
		return nil, fmt.Errorf("%w: context length %d", ErrHeaderMalformed, ctxLen)
	}
	if envCap < envLenLen || envCap > envLenLen+MaxEnvelopeSize+512 {
		return nil, fmt.Errorf("%w: envelope area %d", ErrHeaderMalformed, envCap)
	}
	total := fixedLen + int(ctxLen) + commitmentLen + macLen + int(envCap)
	b := make([]byte, total)
	copy(b, fixed[:])
	if n, err := io.ReadFull(r, b[fixedLen:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: header: %d of %d bytes", ErrTruncated, fixedLen+n, total)
		}
		return nil, err
	}
	raw := &rawHeader{bytes: b, envCap: int(envCap)}
	raw.authLen = fixedLen + int(ctxLen) + commitmentLen
	raw.commit = b[raw.authLen-commitmentLen : raw.authLen]
	raw.mac = b[raw.authLen : raw.authLen+macLen]

	h := &raw.h
	h.Version, h.Suite, h.MaxChunkSize = version, SuiteAES256GCM, maxChunk
	copy(h.RecordingID[:], fixed[offRecID:])
	d := decoder{b: b[fixedLen : fixedLen+int(ctxLen)]}
	d.context(&h.Context)
	if version == Version2 {
		h.KMSContext = d.kmsContext()
	}
	if err := d.done(); err != nil {
		return nil, fmt.Errorf("%w: context: %v", ErrHeaderMalformed, err)
	}
	env, err := parseEnvelopeArea(b[raw.authLen+macLen:])
	if err != nil {
		return nil, err
	}
	h.Envelope = env
	return raw, nil
}

// parseEnvelopeArea parses "len u32 | envelope | zero padding".
func parseEnvelopeArea(area []byte) (Envelope, error) {
	n := binary.BigEndian.Uint32(area)
	if uint64(n) > uint64(len(area)-envLenLen) {
		return Envelope{}, fmt.Errorf("%w: envelope length %d exceeds its area", ErrHeaderMalformed, n)
	}
	if !allZero(area[envLenLen+n:]) {
		return Envelope{}, fmt.Errorf("%w: envelope padding not zero", ErrHeaderMalformed)
	}
	var env Envelope
	d := decoder{b: area[envLenLen : envLenLen+n]}
	d.envelope(&env)
	if err := d.done(); err != nil {
		return Envelope{}, fmt.Errorf("%w: envelope: %v", ErrHeaderMalformed, err)
	}
	return env, nil
}

func allZero(b []byte) bool {
	return bytes.Count(b, []byte{0}) == len(b)
}
