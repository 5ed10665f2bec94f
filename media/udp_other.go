//go:build !linux

package media

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// ingest without epoll: one goroutine per socket reads it through Go's
// network poller (portable, and slower per datagram than the Linux loops).
type ingest struct{}

func newIngest() *ingest { return &ingest{} }

func (*ingest) stop() {}

type udpSock struct {
	c    *net.UDPConn
	port int
	wg   sync.WaitGroup
}

func (*ingest) listen(ap netip.AddrPort, rcvbuf int) (*udpSock, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, err
	}
	if rcvbuf > 0 {
		_ = c.SetReadBuffer(rcvbuf)
	}
	return &udpSock{c: c, port: c.LocalAddr().(*net.UDPAddr).Port}, nil
}

func (s *udpSock) start(h udpHandler) error {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		buf := make([]byte, maxPacket)
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
func (s *udpSock) close(drain bool) {
	if drain {
		_ = s.c.SetReadDeadline(time.Now().Add(drainWindow))
	} else {
		_ = s.c.SetReadDeadline(time.Now())
	}
	s.wg.Wait()
	s.c.Close()
}
