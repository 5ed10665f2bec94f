package bench

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Codec is what the generator sends for one codec.
type Codec struct {
	Name        string // as the session API names it
	PayloadType uint8
	ClockRate   uint32
	// bytesPerMs is the payload size per millisecond of ptime.
	bytesPerMs int
}

// Codecs the generator knows. Opus is sent as fixed-size frames of
// 32 kbit/s; the payload is not decodable (nothing on the path decodes it).
var Codecs = map[string]Codec{
	"pcmu": {Name: "PCMU", PayloadType: 0, ClockRate: 8000, bytesPerMs: 8},
	"pcma": {Name: "PCMA", PayloadType: 8, ClockRate: 8000, bytesPerMs: 8},
	"opus": {Name: "opus", PayloadType: 111, ClockRate: 48000, bytesPerMs: 4},
}

// LookupCodec returns the codec for a --codec value.
func LookupCodec(name string) (Codec, error) {
	c, ok := Codecs[name]
	if !ok {
		return Codec{}, fmt.Errorf("%w: codec %q (want pcmu, pcma or opus)", ErrConfig, name)
	}
	return c, nil
}

// stampLen is the prefix of every payload the generator overwrites: send
// time (Unix ns, 8 bytes) and packet index in the stream (4 bytes).
const (
	rtpHeaderLen = 12
	stampLen     = 12
)

// newPacket builds the RTP packet template of one stream: a 12-byte header
// and a payload of silence in the codec (0xFF μ-law, 0xD5 A-law), of which
// the first stampLen bytes are rewritten for every send.
func newPacket(c Codec, ptime time.Duration, ssrc uint32) []byte {
	n := max(int(ptime/time.Millisecond)*c.bytesPerMs, stampLen)
	pkt := make([]byte, rtpHeaderLen+n)
	pkt[0] = 0x80 // V=2
	pkt[1] = c.PayloadType
	binary.BigEndian.PutUint32(pkt[8:], ssrc)
	fill := byte(0xFF)
	if c.Name == "PCMA" {
		fill = 0xD5
	}
	for i := rtpHeaderLen; i < len(pkt); i++ {
		pkt[i] = fill
	}
	return pkt
}

// stamp writes packet number idx (sequence, RTP timestamp, payload index)
// and the send time into a template.
func stamp(pkt []byte, idx uint32, tsStep uint32, sent int64) {
	binary.BigEndian.PutUint16(pkt[2:], uint16(idx))
	binary.BigEndian.PutUint32(pkt[4:], idx*tsStep)
	binary.BigEndian.PutUint64(pkt[rtpHeaderLen:], uint64(sent))
	binary.BigEndian.PutUint32(pkt[rtpHeaderLen+8:], idx)
}

// Stamp is what a received payload carries.
type Stamp struct {
	Sent  int64 // Unix ns
	Index uint32
	SSRC  uint32
}

// ParseStamp reads the stamp of a generated RTP packet (no CSRC, no
// extension, as the generator sends them).
func ParseStamp(pkt []byte) (Stamp, bool) {
	if len(pkt) < rtpHeaderLen+stampLen || pkt[0]>>6 != 2 || pkt[0]&0x1f != 0 {
		return Stamp{}, false
	}
	p := pkt[rtpHeaderLen:]
	return Stamp{Sent: int64(binary.BigEndian.Uint64(p)), Index: binary.BigEndian.Uint32(p[8:]),
		SSRC: binary.BigEndian.Uint32(pkt[8:])}, true
}
