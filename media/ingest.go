package media

import (
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/mediaseal/mediaseal/media/udprx"
)

// maxPacket is the largest datagram read; anything longer is truncated by
// the kernel and counted as malformed.
const maxPacket = udprx.MaxDatagram

// track is one media track of a session: an RTP socket, its RTCP socket
// and its sender: declared in the session request (source) or latched
// from the first valid RTP packet inside the latch window.
type track struct {
	index  uint8
	label  string
	kind   string
	rtp    *udprx.Socket
	rtcp   *udprx.Socket
	port   int
	hdr    rtp.Header // scratch of the RTP handler (one loop reads a socket)
	source netip.Addr // declared sender host (zero: latch inside the window)
	// sourcePort is the declared sender port (0: any port of source).
	sourcePort uint16
	dtmfPT     uint8 // payload type of RFC 4733 telephone-events

	// lastDTMF is the RTP timestamp+1 of the last redacted telephone-event
	// (0: none yet); the packets of one event share a timestamp.
	lastDTMF atomic.Int64

	// srtp decrypts the track's SRTP and SRTCP (nil: plain RTP); a
	// SIPREC rekey replaces it while the loops read it.
	srtp atomic.Pointer[trackSRTP]

	latched  atomic.Pointer[netip.AddrPort]
	carried  atomic.Bool // an RTP packet of the sender was accepted
	bye      atomic.Bool
	counters Counters
}

// isRTCP tells RTCP from RTP on a multiplexed port (RFC 5761 §4): RTCP
// packet types 192-223 land in the RTP marker+payload-type byte as 64-95.
func isRTCP(b []byte) bool {
	return len(b) >= 2 && b[1]&0x7f >= 64 && b[1]&0x7f <= 95
}

// onRTP is the per-packet path of a track's RTP socket: the sender check,
// validation on the track's reused header, the latch, the pause check and
// a copy into the recorder. It runs on an ingest loop.
func (s *Session) onRTP(t *track) udprx.Handler {
	return func(pkt []byte, from netip.AddrPort, at time.Time) {
		if isRTCP(pkt) { // RTCP multiplexed on the RTP port (RFC 5761)
			s.onRTCPPacket(t, pkt, from, false)
			return
		}
		t.counters.Received.Add(1)
		t.counters.Bytes.Add(int64(len(pkt)))
		sender := t.fromSender(from, false)
		if !sender && !s.mayLatch(t, at) {
			t.counters.Source.Add(1)
			return
		}
		if len(pkt) == maxPacket {
			t.counters.Malformed.Add(1)
			return
		}
		// On an SRTP track only an authenticated packet goes on (and may
		// latch): a forged or replayed one is a counted drop.
		if t.srtp.Load() != nil {
			if pkt = t.openRTP(pkt, &t.hdr); pkt == nil {
				return
			}
		}
		if !validRTP(&t.hdr, pkt) {
			t.counters.Malformed.Add(1)
			return
		}
		// Only a valid RTP packet latches: garbage or RTCP cannot claim a track.
		if !sender && !t.latch(from) {
			t.counters.Source.Add(1)
			return
		}
		if !t.carried.Load() { // a load per packet, a store only once
			t.carried.Store(true)
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

// fromSender reports whether a datagram from `from` is the track's
// sender's. A declared host must match; a declared port must match for RTP,
// and for RTCP on the RTCP socket the port + 1 is accepted too (RFC 3550
// §11: a sender's RTCP usually leaves from its RTP port + 1). A latched
// sender is matched by host: its RTCP comes from another port, and a new
// SSRC after a re-INVITE or a transfer may come from a new port of the same
// media server. The SSRC never decides: a packet from another address is
// dropped whatever its SSRC, and a new SSRC from the sender is accepted.
func (t *track) fromSender(from netip.AddrPort, rtcpSocket bool) bool {
	a := from.Addr().Unmap()
	if t.source.IsValid() {
		if a != t.source {
			return false
		}
		p := from.Port()
		return t.sourcePort == 0 || p == t.sourcePort || (rtcpSocket && p == t.sourcePort+1)
	}
	l := t.latched.Load()
	return l != nil && l.Addr() == a
}

// mayLatch reports whether a packet received at `at` may still latch the
// track's sender: no sender declared, none latched yet, and the session is
// younger than the latch window (zero: latching is off).
func (s *Session) mayLatch(t *track, at time.Time) bool {
	w := s.m.cfg.LatchWindow
	return w > 0 && !t.source.IsValid() && t.latched.Load() == nil && at.Sub(s.StartedAt) <= w
}

// latch makes from the track's sender if no one was latched first; once
// latched the sender is fixed for the session's life.
func (t *track) latch(from netip.AddrPort) bool {
	f := netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	if t.latched.CompareAndSwap(nil, &f) {
		return true
	}
	return t.latched.Load().Addr() == f.Addr()
}

// onRTCP is the path of a track's RTCP socket: BYE ends the session.
func (s *Session) onRTCP(t *track) udprx.Handler {
	return func(pkt []byte, from netip.AddrPort, _ time.Time) {
		s.onRTCPPacket(t, pkt, from, true)
	}
}

// onRTCPPacket handles RTCP of track t. RTCP never latches: before the
// sender is known, and from anyone but the sender, it is a counted drop, so
// no other host can end the call with a BYE.
func (s *Session) onRTCPPacket(t *track, pkt []byte, from netip.AddrPort, rtcpSocket bool) {
	t.counters.RTCP.Add(1)
	if !t.fromSender(from, rtcpSocket) {
		t.counters.RTCPSource.Add(1)
		return
	}
	if t.srtp.Load() != nil {
		if pkt = t.openRTCP(pkt); pkt == nil {
			return
		}
	}
	s.handleRTCP(t, pkt)
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
