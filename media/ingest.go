package media

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// maxPacket is the largest datagram read; anything longer is truncated by
// the kernel and counted as malformed.
const maxPacket = 1600

// track is one media track of a session: an RTP socket, its RTCP socket
// and the sender address latched from the first valid packet.
type track struct {
	index  uint8
	label  string
	kind   string
	rtp    *net.UDPConn
	rtcp   *net.UDPConn
	port   int
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

// readRTP is the per-packet path: one read syscall, validation on a reused
// header, the pause check, and a copy into the recorder. It returns when
// the socket is closed.
func (s *Session) readRTP(t *track) {
	defer s.wg.Done()
	buf := make([]byte, maxPacket)
	var hdr rtp.Header
	for {
		n, from, err := t.rtp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) {
				return // closed, or the end-of-session drain is over
			}
			continue // transient (e.g. ICMP-induced) errors
		}
		now := time.Now()
		pkt := buf[:n]
		if isRTCP(pkt) { // RTCP multiplexed on the RTP port (RFC 5761)
			t.counters.RTCP.Add(1)
			if s.acceptSource(t, from) {
				s.handleRTCP(t, pkt)
			}
			continue
		}
		t.counters.Received.Add(1)
		t.counters.Bytes.Add(int64(n))
		if !s.acceptSource(t, from) {
			t.counters.Source.Add(1)
			continue
		}
		if n == maxPacket || !validRTP(&hdr, pkt) {
			t.counters.Malformed.Add(1)
			continue
		}
		s.deliver(t, now, pkt)
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

// readRTCP consumes the RTCP socket: BYE ends the session.
func (s *Session) readRTCP(t *track) {
	defer s.wg.Done()
	buf := make([]byte, maxPacket)
	for {
		n, from, err := t.rtcp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) {
				return
			}
			continue
		}
		t.counters.RTCP.Add(1)
		if s.acceptSource(t, from) {
			s.handleRTCP(t, buf[:n])
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
