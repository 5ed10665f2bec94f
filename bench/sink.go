package bench

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Sink is the baseline receiver: one UDP socket and one reading goroutine
// per stream, as the gateway's ingest has, that only counts datagrams. It
// is what this machine moves at all with the same socket layout.
type Sink struct {
	conns    []*net.UDPConn
	received atomic.Int64
	wg       sync.WaitGroup
}

// NewSink opens n sockets on addr (ephemeral ports) with rcvbuf bytes of
// kernel receive buffer each.
func NewSink(addr netip.Addr, n, rcvbuf int) (*Sink, error) {
	s := &Sink{}
	for range n {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, 0)))
		if err != nil {
			s.Close()
			return nil, err
		}
		if rcvbuf > 0 {
			_ = c.SetReadBuffer(rcvbuf)
		}
		s.conns = append(s.conns, c)
	}
	for _, c := range s.conns {
		s.wg.Add(1)
		go s.read(c)
	}
	return s, nil
}

func (s *Sink) read(c *net.UDPConn) {
	defer s.wg.Done()
	buf := make([]byte, 2048)
	for {
		if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.received.Add(1)
	}
}

// Addrs returns each socket's address, in order.
func (s *Sink) Addrs() []netip.AddrPort {
	out := make([]netip.AddrPort, len(s.conns))
	for i, c := range s.conns {
		out[i] = c.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	return out
}

// Ports returns the set of local ports, for ReadUDPStats.
func (s *Sink) Ports() map[uint16]bool {
	m := make(map[uint16]bool, len(s.conns))
	for _, a := range s.Addrs() {
		m[a.Port()] = true
	}
	return m
}

// Received is the number of datagrams read so far.
func (s *Sink) Received() int64 { return s.received.Load() }

// Close stops every reader. Idempotent.
func (s *Sink) Close() {
	for _, c := range s.conns {
		c.Close()
	}
	s.wg.Wait()
}
