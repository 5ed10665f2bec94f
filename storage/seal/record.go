package seal

import (
	"encoding/binary"
	"fmt"
	"math"
)

// RecordType says what a Record holds.
type RecordType uint8

const (
	RecordPacket RecordType = iota + 1 // Data = one raw RTP packet as received
	RecordPause                        // secure pause started (Data empty)
	RecordResume                       // resumed
	RecordEvent                        // other event, Data = small opaque payload (e.g. JSON / DTMF marker)
)

// Record is one entry of a chunk's plaintext.
type Record struct {
	Type    RecordType
	Track   uint8
	Arrival int64  // nanoseconds since Context.StartedAt (monotonic-based)
	Data    []byte // for readers: valid only until the next call unless copied
}

// A record on the wire (inside the chunk plaintext), records back to back:
//
//	0  type     u8
//	1  track    u8
//	2  length   u16   len(Data)
//	4  arrival  i64
//	12 data     [length]
const (
	recordHeaderLen = 12
	// MaxRecordData is the largest Data a record can carry (and it must
	// also fit, with its 12-byte header, in one chunk).
	MaxRecordData = math.MaxUint16
)

func (r *Record) encodedLen() int { return recordHeaderLen + len(r.Data) }

// check validates a record against the header's tracks. Packets must name a
// declared track; events, pauses and resumes may use any track number
// (conventionally 0 when they concern the whole call).
func (r *Record) check(ntracks int) error {
	switch r.Type {
	case RecordPacket:
		if int(r.Track) >= ntracks {
			return fmt.Errorf("%w: packet on track %d, header declares %d tracks", ErrBadRecord, r.Track, ntracks)
		}
	case RecordPause, RecordResume, RecordEvent:
	default:
		return fmt.Errorf("%w: type %d", ErrBadRecord, r.Type)
	}
	return nil
}

// putRecord encodes r into b, which is exactly r.encodedLen() bytes; the
// caller has checked r's size and type.
func putRecord(b []byte, r *Record) {
	putRecordHeader((*[recordHeaderLen]byte)(b), r)
	copy(b[recordHeaderLen:], r.Data)
}

func putRecordHeader(h *[recordHeaderLen]byte, r *Record) {
	h[0], h[1] = byte(r.Type), r.Track
	binary.BigEndian.PutUint16(h[2:], uint16(len(r.Data)))
	binary.BigEndian.PutUint64(h[4:], uint64(r.Arrival))
}

// decodeRecords parses an authenticated chunk plaintext into recs (reused),
// with Data aliasing plain. It returns the largest arrival seen (noArrival
// for an empty chunk).
func decodeRecords(recs []Record, plain []byte, ntracks int) ([]Record, int64, error) {
	recs = recs[:0]
	maxArr := int64(noArrival)
	for off := 0; off < len(plain); {
		if len(plain)-off < recordHeaderLen {
			return recs, 0, fmt.Errorf("%w: %d stray bytes at offset %d", ErrRecordMalformed, len(plain)-off, off)
		}
		h := plain[off : off+recordHeaderLen]
		n := int(binary.BigEndian.Uint16(h[2:]))
		end := off + recordHeaderLen + n
		if end > len(plain) {
			return recs, 0, fmt.Errorf("%w: record at offset %d runs past the chunk", ErrRecordMalformed, off)
		}
		r := Record{
			Type:    RecordType(h[0]),
			Track:   h[1],
			Arrival: int64(binary.BigEndian.Uint64(h[4:])),
			Data:    plain[off+recordHeaderLen : end : end],
		}
		if err := r.check(ntracks); err != nil {
			return recs, 0, fmt.Errorf("%w: %v", ErrRecordMalformed, err)
		}
		maxArr = max(maxArr, r.Arrival)
		recs = append(recs, r)
		off = end
	}
	return recs, maxArr, nil
}
