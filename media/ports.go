package media

import (
	"fmt"
	"net/netip"
	"sync"

	"github.com/mediaseal/mediaseal/internal/udprx"
)

// portPool hands out UDP ports from a configured range. RTP takes even
// ports, RTCP the odd port above (RFC 3550 §11).
type portPool struct {
	addr     netip.Addr
	min, max int

	mu   sync.Mutex
	next int
	used map[int]bool
}

func newPortPool(addr netip.Addr, min, max int) *portPool {
	if min%2 == 1 {
		min++
	}
	return &portPool{addr: addr, min: min, max: max, next: min, used: map[int]bool{}}
}

// listenPair binds an RTP socket on an even port and RTCP on the next one,
// skipping ports the OS refuses (in use by another process).
func (p *portPool) listenPair(in *udprx.Set, rcvbuf int) (rtpSock, rtcpSock *udprx.Socket, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	span := (p.max - p.min + 1) / 2
	for range span {
		port := p.next
		p.next += 2
		if p.next+1 > p.max {
			p.next = p.min
		}
		if p.used[port] {
			continue
		}
		rtpSock, err = in.Listen(netip.AddrPortFrom(p.addr, uint16(port)), rcvbuf)
		if err != nil {
			continue
		}
		rtcpSock, err = in.Listen(netip.AddrPortFrom(p.addr, uint16(port+1)), 0)
		if err != nil {
			rtpSock.Close(false)
			continue
		}
		p.used[port] = true
		return rtpSock, rtcpSock, nil
	}
	return nil, nil, fmt.Errorf("%w: no free RTP port pair in %d-%d", ErrCapacity, p.min, p.max)
}

func (p *portPool) release(port int) {
	p.mu.Lock()
	delete(p.used, port)
	p.mu.Unlock()
}
