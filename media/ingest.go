package media

import (
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/mediaseal/mediaseal/internal/udprx"
)

// maxPacket is the largest datagram read; anything longer is truncated by
// the kernel and counted as malformed.
const maxPacket = udprx.MaxDatagram

// track is one media track of a session: an RTP socket, its RTCP socket
// and the sender address latched from the first valid packet.
type track struct {
	index  uint8
	label  string
	kind   string
	rtp    *udprx.Socket
	rtcp   *udprx.Socket
	port   int
	hdr    rtp.Header // scratch of the RTP handler (one loop reads a socket)
	source netip.Addr // optional: only this host may send (zero: latch first)
	dtmfPT uint8      // payload type of RFC 4733 telephone-events

	// lastDTMF is the RTP timestamp+1 of the last redacted telephone-event
	// (0: none yet); the packets of one event share a timestamp.
	lastDTMF atomic.Int64

	latched  atomic.Pointer[netip.AddrPort]
	bye      atomic.Bool
	counters Counters
}

// isRTCP tells RTCP from RTP on a multiplexed port (RFC 5761 §4): RTCP
// packet types 192-223 land in the RTP marker+payload-type byte as 64-95.
func isRTCP(b []byte) bool {
	return len(b) >= 2 && b[1]&0x7f >= 64 && b[1]&0x7f <= 95
}

// onRTP is the per-packet path of a track's RTP socket: validation on the
// track's reused header, the source latch, the pause check and a copy into
// the recorder. It runs on an ingest loop.
func (s *Session) onRTP(t *track) udprx.Handler {
	return func(pkt []byte, from netip.AddrPort, at time.Time) {
		if isRTCP(pkt) { // RTCP multiplexed on the RTP port (RFC 5761)
			t.counters.RTCP.Add(1)
			if s.acceptSource(t, from) {
				s.handleRTCP(t, pkt)
			}
			return
		}
		t.counters.Received.Add(1)
		t.counters.Bytes.Add(int64(len(pkt)))
		if !s.acceptSource(t, from) {
			t.counters.Source.Add(1)
			return
		}
		if len(pkt) == maxPacket || !validRTP(&t.hdr, pkt) {
			t.counters.Malformed.Add(1)
			return
		}
		s.deliver(t, at, pkt)
	}
}

// validRTP checks version, header length (CSRCs, extension) and padding
// against the datagram length, reusing hdr so it allocates nothing.
func validRTP(hdr *rtp.Header, b []byte) bool {
	if len(b) < 12 || b[0]>>6 != 2 {
		return false
	}
	hl, err := hdr.Unmarshal(b)
	if err != nil || hl > len(b) {
		return false
	}
	if hdr.Padding {
		pad := int(b[len(b)-1])
		if pad == 0 || hl+pad > len(b) {
			return false
		}
	}
	return true
}

// acceptSource latches the first sender of a track (symmetric RTP) and
// refuses packets from any other address afterwards. When the session was
// created with an expected source host, only that host is accepted.
func (s *Session) acceptSource(t *track, from netip.AddrPort) bool {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	if t.source.IsValid() && from.Addr() != t.source {
		return false
	}
	if l := t.latched.Load(); l != nil {
		// A new SSRC after a re-INVITE may come from a new port of the same
		// host; the host must still match.
		return l.Addr() == from.Addr()
	}
	t.latched.CompareAndSwap(nil, &from)
	return t.latched.Load().Addr() == from.Addr()
}

// onRTCP is the path of a track's RTCP socket: BYE ends the session.
func (s *Session) onRTCP(t *track) udprx.Handler {
	return func(pkt []byte, from netip.AddrPort, _ time.Time) {
		t.counters.RTCP.Add(1)
		if s.acceptSource(t, from) {
			s.handleRTCP(t, pkt)
		}
	}
}

func (s *Session) handleRTCP(t *track, b []byte) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		t.counters.Malformed.Add(1)
		return
	}
	for _, p := range pkts {
		if _, ok := p.(*rtcp.Goodbye); ok {
			t.bye.Store(true)
			s.checkBye()
			return
		}
	}
}
