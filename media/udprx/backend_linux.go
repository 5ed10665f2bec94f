//go:build linux

package udprx

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// envBackend forces a backend: "epoll" or "uring" (A/B benchmarks, tests).
// Unset or anything else: uring if uringDefault and the probe passes,
// epoll otherwise.
const envBackend = "MEDIASEAL_UDPRX"

// uringDefault makes the io_uring loops the default where they work: one
// submission reaps many datagrams from many sockets, where epoll needs a
// wake-up and a recvmmsg per ready socket, so they cost less CPU per
// datagram (BenchmarkReceive compares the two; docs/bench.md has the
// figures).
const uringDefault = true

type backend uint8

const (
	backendEpoll backend = iota
	backendUring
)

func (b backend) String() string {
	if b == backendUring {
		return "uring"
	}
	return "epoll"
}

func chooseBackend() backend {
	switch os.Getenv(envBackend) {
	case "epoll":
		return backendEpoll
	case "uring":
		return backendUring
	}
	if uringDefault && uringWorks() {
		return backendUring
	}
	return backendEpoll
}

// uringWorks reports, once per process, whether a uring loop receives a
// datagram on this kernel: setting the ring up proves the setup flags and
// the buffer ring; a datagram through a loopback socket proves multishot
// recvmsg (6.0). io_uring may also be disabled (kernel.io_uring_disabled)
// or filtered by seccomp in a container.
var uringWorks = sync.OnceValue(func() bool {
	in := newSet(backendUring)
	defer in.Stop()
	s, err := in.Listen(netip.MustParseAddrPort("127.0.0.1:0"), 0)
	if err != nil {
		return false
	}
	got := make(chan struct{}, 1)
	if err := s.Start(func([]byte, netip.AddrPort, time.Time) {
		select {
		case got <- struct{}{}:
		default:
		}
	}); err != nil {
		s.Close(false)
		return false
	}
	defer s.Close(false)
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.Port()))))
	if err != nil {
		return false
	}
	defer c.Close()
	if _, err := c.Write([]byte("probe")); err != nil {
		return false
	}
	select {
	case <-got:
		return true
	case <-time.After(time.Second):
		return false
	}
})
