//go:build !linux

package bench

import (
	"net"
	"net/netip"
)

// rawAddr is a stream's destination.
type rawAddr struct{ ap netip.AddrPort }

func newRawAddr(ap netip.AddrPort) rawAddr { return rawAddr{ap} }

// sender sends one datagram per system call where sendmmsg is missing.
type sender struct{ conn *net.UDPConn }

func newSender(dest netip.AddrPort, _ int) (*sender, error) {
	laddr := &net.UDPAddr{}
	if dest.Addr().IsLoopback() && dest.Addr().Is4() {
		laddr.IP = net.IPv4(127, 0, 0, 1)
	}
	c, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, err
	}
	_ = c.SetWriteBuffer(4 << 20)
	return &sender{conn: c}, nil
}

func (s *sender) send(batch []*Stream) (sent, failed int) {
	for _, st := range batch {
		if _, err := s.conn.WriteToUDPAddrPort(st.out(), st.raw.ap); err != nil {
			failed++
			continue
		}
		st.sent++
		sent++
	}
	return sent, failed
}

func (s *sender) close() { s.conn.Close() }

// prioritize is a no-op here: nice values are per process elsewhere.
func prioritize(int) (restore func(), err error) { return func() {}, nil }
