package seal

import (
	"encoding/binary"
	"fmt"
	"math"
)

// A chunk on the wire is a 32-byte clear prefix followed by the AEAD output
// (stored payload || 16-byte tag):
//
//	 0  recording tag  [8]  first 8 bytes of the recording id
//	 8  index          u32  0, 1, 2, ... in object order
//	12  type           u8   1 regular, 2 final, 3 recovered-final
//	13  flags          u8   bit 0: payload is zstd-compressed
//	14  reserved       u16  zero
//	16  plain length   u32  record bytes in the chunk, before compression
//	20  sealed length  u32  bytes after the prefix: stored payload + tag
//	24  arrival max    i64  running maximum of Record.Arrival up to and
//	                        including this chunk (math.MinInt64 before any)
//
// The AAD is recording id (32) || prefix (32): every prefix bit is
// authenticated by the chunk's tag.
const (
	prefixLen = 32
	tagLen    = 16
	aadLen    = 32 + prefixLen

	// MaxChunks is the number of chunks one recording can hold (the index is
	// a uint32).
	MaxChunks = math.MaxUint32

	flagCompressed = 1 << 0
	knownFlags     = flagCompressed

	noArrival = math.MinInt64
)

type chunkType uint8

const (
	chunkRegular   chunkType = 1
	chunkFinal     chunkType = 2
	chunkRecovered chunkType = 3 // final chunk appended by Recover
)

func (t chunkType) final() bool { return t == chunkFinal || t == chunkRecovered }

type prefix struct {
	tag        [8]byte
	index      uint32
	typ        chunkType
	flags      uint8
	reserved   uint16
	plainLen   uint32
	sealedLen  uint32
	arrivalMax int64
}

func (p *prefix) put(b []byte) {
	_ = b[prefixLen-1]
	copy(b[0:8], p.tag[:])
	binary.BigEndian.PutUint32(b[8:], p.index)
	b[12] = byte(p.typ)
	b[13] = p.flags
	binary.BigEndian.PutUint16(b[14:], p.reserved)
	binary.BigEndian.PutUint32(b[16:], p.plainLen)
	binary.BigEndian.PutUint32(b[20:], p.sealedLen)
	binary.BigEndian.PutUint64(b[24:], uint64(p.arrivalMax))
}

func parsePrefix(b []byte) prefix {
	_ = b[prefixLen-1]
	var p prefix
	copy(p.tag[:], b[0:8])
	p.index = binary.BigEndian.Uint32(b[8:])
	p.typ = chunkType(b[12])
	p.flags = b[13]
	p.reserved = binary.BigEndian.Uint16(b[14:])
	p.plainLen = binary.BigEndian.Uint32(b[16:])
	p.sealedLen = binary.BigEndian.Uint32(b[20:])
	p.arrivalMax = int64(binary.BigEndian.Uint64(b[24:]))
	return p
}

// wellFormed reports whether a writer could have produced p. A prefix that
// is not well formed cannot be authentic, so the reader rejects it as
// ErrChunkAuth without reading the body (and without trusting its lengths).
func (p *prefix) wellFormed(maxChunk uint32) error {
	switch {
	case p.typ != chunkRegular && p.typ != chunkFinal && p.typ != chunkRecovered:
		return fmt.Errorf("unknown chunk type %d", p.typ)
	case p.flags&^knownFlags != 0:
		return fmt.Errorf("unknown flags %#x", p.flags)
	case p.reserved != 0:
		return fmt.Errorf("reserved bits %#x", p.reserved)
	case p.plainLen > maxChunk:
		return fmt.Errorf("plain length %d over max chunk size %d", p.plainLen, maxChunk)
	case p.sealedLen < tagLen:
		return fmt.Errorf("sealed length %d shorter than a tag", p.sealedLen)
	case p.flags&flagCompressed == 0 && p.sealedLen != p.plainLen+tagLen:
		return fmt.Errorf("uncompressed chunk: sealed length %d != %d+%d", p.sealedLen, p.plainLen, tagLen)
	case p.flags&flagCompressed != 0 && p.sealedLen-tagLen >= p.plainLen:
		// The writer stores a chunk compressed only when that shrinks it.
		return fmt.Errorf("compressed chunk does not shrink: %d >= %d", p.sealedLen-tagLen, p.plainLen)
	case p.typ == chunkRecovered && p.plainLen != 0:
		return fmt.Errorf("recovered-final chunk with %d plaintext bytes", p.plainLen)
	}
	return nil
}

// setNonce sets n to nonceBase XOR (0^24 || index as u64 || type): distinct
// (index, type) pairs give distinct nonces under the recording's one key.
// (n lives in the caller's struct: a stack array passed to the AEAD
// interface would escape and cost an allocation per chunk.)
func setNonce(n *[12]byte, base *[12]byte, index uint32, typ chunkType) {
	*n = *base
	var it [9]byte
	binary.BigEndian.PutUint64(it[:8], uint64(index))
	it[8] = byte(typ)
	for i := range it {
		n[3+i] ^= it[i]
	}
}

// chunkIO is the per-object scratch state for sealing and opening chunks:
// the AAD (recording id || prefix) and the nonce.
type chunkIO struct {
	ks    *keySchedule
	aad   [aadLen]byte
	nonce [12]byte
}

func (c *chunkIO) init(ks *keySchedule, rid *[32]byte) {
	c.ks = ks
	copy(c.aad[:32], rid[:])
}

// tagMatches reports whether a prefix's recording tag is this recording's.
func (c *chunkIO) tagMatches(p *prefix) bool { return [8]byte(c.aad[:8]) == p.tag }

// seal turns frame = [prefixLen reserved bytes || payload] into a sealed
// chunk in place: it fills in p's tag and sealed length, writes the prefix,
// and encrypts the payload over itself, appending the tag. cap(frame) must
// leave room for the tag, or Seal would allocate.
func (c *chunkIO) seal(frame []byte, p *prefix) []byte {
	payload := frame[prefixLen:]
	p.tag = [8]byte(c.aad[:8])
	p.sealedLen = uint32(len(payload) + tagLen)
	p.put(c.aad[32:])
	copy(frame, c.aad[32:])
	setNonce(&c.nonce, &c.ks.nonceBase, p.index, p.typ)
	c.ks.aead.Seal(payload[:0], c.nonce[:], payload, c.aad[:])
	return frame[:len(frame)+tagLen]
}

// open authenticates and decrypts sealed (the bytes after p) in place.
func (c *chunkIO) open(p *prefix, sealed []byte) ([]byte, error) {
	p.put(c.aad[32:])
	setNonce(&c.nonce, &c.ks.nonceBase, p.index, p.typ)
	return c.ks.aead.Open(sealed[:0], c.nonce[:], sealed, c.aad[:])
}
