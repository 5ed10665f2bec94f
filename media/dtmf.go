package media

import (
	"encoding/binary"
	"time"

	"github.com/mediaseal/mediaseal/storage/seal"
)

// DefaultDTMFPayloadType is the payload type of RFC 4733 telephone-events
// when the signalling did not negotiate another one.
const DefaultDTMFPayloadType = 101

// DTMFMarker is the Data of the seal.RecordEvent that replaces a redacted
// telephone-event: it says that a key was pressed, never which one, nor
// for how long.
var DTMFMarker = []byte(`{"event":"dtmf","redacted":true}`)

func (t TrackSpec) dtmfPT() uint8 {
	if t.DTMFPayloadType != nil {
		return *t.DTMFPayloadType
	}
	return DefaultDTMFPayloadType
}

// redactEvent drops one telephone-event packet of a redactDtmf policy
// before it is buffered. The packets of one event (start, updates, the
// three end retransmissions) share an RTP timestamp, so the first packet
// of each event leaves one marker record. It allocates nothing: the
// recorder copies the constant marker.
func (s *Session) redactEvent(t *track, at time.Time, pkt []byte) {
	t.counters.DTMFRedacted.Add(1)
	ts := int64(binary.BigEndian.Uint32(pkt[4:8])) + 1
	if t.lastDTMF.Swap(ts) == ts {
		return
	}
	switch {
	case s.rec.Mark(seal.RecordEvent, t.index, at, DTMFMarker):
	case s.rec.Stats().Pending:
		t.counters.Overflow.Add(1)
	default:
		t.counters.Closed.Add(1)
	}
}
