package seal

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// sidecarMagic opens an envelope stored next to an object.
const sidecarMagic = "\x89senv\r\n\x1a"

// MarshalEnvelope encodes env as a sidecar envelope for the recording with
// the given id: the bytes a rewrap stores as "<object>.envelope" (or in an
// index row) to supersede the envelope in the object's header. The header MAC
// does not cover the envelope, so nothing in the object changes.
//
//	magic "\x89senv\r\n\x1a" | version u8 = 1 | recording id [32] | envelope
func MarshalEnvelope(recordingID [32]byte, env Envelope) ([]byte, error) {
	var e encoder
	e.b = append(e.b, sidecarMagic...)
	e.u8(Version1)
	e.b = append(e.b, recordingID[:]...)
	n := len(e.b)
	e.envelope(&env)
	if e.err != nil {
		return nil, fmt.Errorf("%w: envelope: %v", ErrHeaderInvalid, e.err)
	}
	if len(e.b)-n > MaxEnvelopeSize {
		return nil, fmt.Errorf("%w: envelope is %d bytes, limit %d", ErrHeaderInvalid, len(e.b)-n, MaxEnvelopeSize)
	}
	return e.b, nil
}

// ParseEnvelope decodes a sidecar envelope. The caller checks that the
// recording id matches the object's before using it; a mismatched envelope
// would at worst unwrap a DEK that fails the key commitment.
func ParseEnvelope(b []byte) (recordingID [32]byte, env Envelope, err error) {
	if len(b) < len(sidecarMagic)+1+32 || string(b[:len(sidecarMagic)]) != sidecarMagic {
		return recordingID, env, ErrBadMagic
	}
	b = b[len(sidecarMagic):]
	if b[0] != Version1 {
		return recordingID, env, fmt.Errorf("%w: envelope version %d", ErrUnsupportedVersion, b[0])
	}
	copy(recordingID[:], b[1:33])
	if len(b)-33 > MaxEnvelopeSize {
		return recordingID, env, fmt.Errorf("%w: envelope is %d bytes", ErrHeaderMalformed, len(b)-33)
	}
	d := decoder{b: b[33:]}
	d.envelope(&env)
	if err := d.done(); err != nil {
		return recordingID, env, fmt.Errorf("%w: envelope: %v", ErrHeaderMalformed, err)
	}
	return recordingID, env, nil
}

// ReplaceEnvelope overwrites the envelope stored in an object's header, for
// storage that can rewrite a small range in place. It fails with
// ErrHeaderInvalid if env does not fit the header's envelope area (writers
// leave room to spare); use a sidecar then. The write is not atomic: write a
// copy of the object and rename it, or keep the old envelope in a sidecar
// until the write is durable.
func ReplaceEnvelope(f interface {
	io.ReaderAt
	io.WriterAt
}, env Envelope) error {
	raw, err := readHeader(io.NewSectionReader(f, 0, math.MaxInt64))
	if err != nil {
		return err
	}
	var e encoder
	e.envelope(&env)
	if e.err != nil {
		return fmt.Errorf("%w: envelope: %v", ErrHeaderInvalid, e.err)
	}
	if envLenLen+len(e.b) > raw.envCap {
		return fmt.Errorf("%w: envelope of %d bytes does not fit the header's %d-byte area", ErrHeaderInvalid, len(e.b), raw.envCap)
	}
	area := make([]byte, raw.envCap)
	binary.BigEndian.PutUint32(area, uint32(len(e.b)))
	copy(area[envLenLen:], e.b)
	_, err = f.WriteAt(area, int64(raw.authLen+macLen))
	return err
}
