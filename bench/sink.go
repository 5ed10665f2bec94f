package bench

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mediaseal/mediaseal/media/udprx"
)

// Sink is the baseline receiver: one UDP socket per stream, as the
// gateway's ingest has, read by the gateway's own receive loops
// (media/udprx), that only counts datagrams. It is what this machine
// moves at all with the same socket layout and the same receiver, minus
// the recording.
type Sink struct {
	set      *udprx.Set
	socks    []*udprx.Socket
	addr     netip.Addr
	received atomic.Int64
	close    sync.Once
}

// NewSink opens n sockets on addr (ephemeral ports) with rcvbuf bytes of
// kernel receive buffer each.
func NewSink(addr netip.Addr, n, rcvbuf int) (*Sink, error) {
	s := &Sink{set: udprx.New(), addr: addr}
	count := func([]byte, netip.AddrPort, time.Time) { s.received.Add(1) }
	for range n {
		sock, err := s.set.Listen(netip.AddrPortFrom(addr, 0), rcvbuf)
		if err == nil {
			err = sock.Start(count)
		}
		if err != nil {
			s.Close()
			return nil, err
		}
		s.socks = append(s.socks, sock)
	}
	return s, nil
}

// Addrs returns each socket's address, in order.
func (s *Sink) Addrs() []netip.AddrPort {
	out := make([]netip.AddrPort, len(s.socks))
	for i, sock := range s.socks {
		out[i] = netip.AddrPortFrom(s.addr, uint16(sock.Port()))
	}
	return out
}

// Ports returns the set of local ports, for ReadUDPStats.
func (s *Sink) Ports() map[uint16]bool {
	m := make(map[uint16]bool, len(s.socks))
	for _, sock := range s.socks {
		m[uint16(sock.Port())] = true
	}
	return m
}

// Received is the number of datagrams read so far.
func (s *Sink) Received() int64 { return s.received.Load() }

// Close reads what is queued, closes every socket and stops the loops.
// Idempotent.
func (s *Sink) Close() {
	s.close.Do(func() {
		for _, sock := range s.socks {
			sock.Close(true)
		}
		s.set.Stop()
	})
}
