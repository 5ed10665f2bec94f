//go:build !linux

package udprx

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"time"
)

// Set without epoll: one goroutine per socket reads it through Go's
// network poller (portable, and slower per datagram than the Linux loops).
type Set struct{}

func New() *Set { return &Set{} }

// ReserveProcs has nothing to reserve: no loop here keeps a thread.
func ReserveProcs() (procs int, raised bool) { return runtime.GOMAXPROCS(0), false }

func (*Set) Stop() {}

// Backend names how the Set reads: a goroutine per socket here.
func (*Set) Backend() string { return "goroutine" }

type Socket struct {
	c    *net.UDPConn
	port int
	wg   sync.WaitGroup
}

func (*Set) Listen(ap netip.AddrPort, rcvbuf int) (*Socket, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, err
	}
	if rcvbuf > 0 {
		_ = c.SetReadBuffer(rcvbuf)
	}
	return &Socket{c: c, port: c.LocalAddr().(*net.UDPAddr).Port}, nil
}

// Port is the socket's local port.
func (s *Socket) Port() int { return s.port }

func (s *Socket) Start(h Handler) error {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		buf := make([]byte, MaxDatagram)
		for {
			n, from, err := s.c.ReadFromUDPAddrPort(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) {
					return
				}
				continue
			}
			h(buf[:n], netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), time.Now())
		}
	}()
	return nil
}

// close stops the reader; with drain it first reads what is queued.
func (s *Socket) Close(drain bool) {
	if drain {
		_ = s.c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	} else {
		_ = s.c.SetReadDeadline(time.Now())
	}
	s.wg.Wait()
	s.c.Close()
}
