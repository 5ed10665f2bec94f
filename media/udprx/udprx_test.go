//go:build linux

package udprx

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// backends runs f once per backend. The uring run is skipped only where
// the kernel refuses io_uring outright (disabled by sysctl, seccomp, too
// old); anything else that fails is a failure.
func backends(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range []backend{backendEpoll, backendUring} {
		t.Run(b.String(), func(t *testing.T) {
			if b == backendUring {
				if !uringBuilt {
					t.Skip("no io_uring backend on this architecture")
				}
				if err := uringRefused(); err != nil {
					t.Skipf("io_uring refused here: %v", err)
				}
			}
			f(t, b)
		})
	}
}

// uringRefused sets up (and closes) a one-entry ring.
func uringRefused() error {
	var p [120]byte // struct io_uring_params
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, 1, uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		if errors.Is(errno, unix.ENOSYS) || errors.Is(errno, unix.EPERM) {
			return errno
		}
		return nil
	}
	unix.Close(int(fd))
	return nil
}

// hold stops s's loop from dispatching (until release is called), so
// datagrams sent meanwhile wait in the kernel: in the socket or, for
// uring, in posted completions.
func hold(s *Socket) (release func()) {
	if s.u != nil {
		s.u.mu.Lock()
		return s.u.mu.Unlock
	}
	s.l.mu.Lock()
	return s.l.mu.Unlock
}

// listenCollect opens a loopback socket on in and starts it into a
// collector.
func listenCollect(t *testing.T, in *Set, rcvbuf int) (*Socket, *collector) {
	t.Helper()
	s, err := in.Listen(netip.MustParseAddrPort("127.0.0.1:0"), rcvbuf)
	if err != nil {
		t.Fatal(err)
	}
	c := new(collector)
	if err := s.Start(c.handle); err != nil {
		t.Fatal(err)
	}
	return s, c
}

func dial(t *testing.T, s *Socket) *net.UDPConn {
	t.Helper()
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.Port()))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// collector is a Handler that records what it was handed.
type collector struct {
	mu    sync.Mutex
	got   [][]byte
	from  []netip.AddrPort
	after atomic.Bool // set once the socket is closed: any call is a bug
	late  atomic.Int64
}

func (c *collector) handle(b []byte, from netip.AddrPort, _ time.Time) {
	if c.after.Load() {
		c.late.Add(1)
	}
	c.mu.Lock()
	c.got = append(c.got, append([]byte(nil), b...))
	c.from = append(c.from, from)
	c.mu.Unlock()
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestDeliversEveryDatagramWithItsSource(t *testing.T) {
	backends(t, testDeliversEveryDatagramWithItsSource)
}

func testDeliversEveryDatagramWithItsSource(t *testing.T, b backend) {
	for _, bind := range []string{"127.0.0.1", "::1"} {
		t.Run(bind, func(t *testing.T) {
			in := newSet(b)
			defer in.Stop()
			s, err := in.Listen(netip.AddrPortFrom(netip.MustParseAddr(bind), 0), 1<<20)
			if err != nil {
				t.Skipf("no %s here: %v", bind, err) // ::1 may be absent in a container
			}
			var c collector
			if err := s.Start(c.handle); err != nil {
				t.Fatal(err)
			}
			port := uint16(s.Port())
			conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(bind), port)))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			const n = 500
			for i := range n {
				if _, err := conn.Write([]byte{byte(i), byte(i >> 8), 0xAB}); err != nil {
					t.Fatal(err)
				}
				if i%100 == 99 {
					time.Sleep(5 * time.Millisecond) // stay inside the socket buffer
				}
			}
			// An over-long datagram arrives cut to MaxDatagram, so the RTP
			// handler counts it as malformed instead of recording a part.
			if _, err := conn.Write(make([]byte, MaxDatagram+100)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "every datagram", func() bool { return c.count() == n+1 })
			local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
			c.mu.Lock()
			defer c.mu.Unlock()
			for i := range n {
				if g := c.got[i]; len(g) != 3 || int(g[0])|int(g[1])<<8 != i {
					t.Fatalf("datagram %d: % x (out of order or corrupted)", i, g)
				}
				if c.from[i].Addr() != local.Addr().Unmap() || c.from[i].Port() != local.Port() {
					t.Fatalf("source %s, want %s", c.from[i], local)
				}
			}
			if len(c.got[n]) != MaxDatagram {
				t.Fatalf("over-long datagram handed over as %d bytes", len(c.got[n]))
			}
			s.Close(false)
		})
	}
}

// What the kernel holds when a socket closes is handed over by close
// (drain), and nothing is handed over after close returns.
func TestCloseDrainsAndStops(t *testing.T) {
	backends(t, testCloseDrainsAndStops)
}

func testCloseDrainsAndStops(t *testing.T, b backend) {
	in := newSet(b)
	defer in.Stop()
	s, c := listenCollect(t, in, 1<<20)
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.Port()))))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Hold the loop so the datagrams wait in the kernel.
	release := hold(s)
	const n = 200
	for i := range n {
		if _, err := conn.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	closed := make(chan struct{})
	go func() {
		s.Close(true)
		c.after.Store(true)
		close(closed)
	}()
	time.Sleep(5 * time.Millisecond)
	release()
	<-closed
	if got := c.count(); got != n {
		t.Fatalf("close drained %d of %d queued datagrams", got, n)
	}
	conn.Write([]byte{1}) //nolint:errcheck // the port is closed; this must go nowhere
	time.Sleep(20 * time.Millisecond)
	if c.late.Load() != 0 {
		t.Fatal("handler called after close returned")
	}
}

// A loop with nothing to read sleeps in the kernel; a datagram still
// wakes it, and stop ends it.
func TestWakesFromIdle(t *testing.T) {
	backends(t, testWakesFromIdle)
}

func testWakesFromIdle(t *testing.T, b backend) {
	in := newSet(b)
	s, c := listenCollect(t, in, 0)
	time.Sleep(idlePolls*pollInterval + 200*time.Millisecond) // well past the idle threshold
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.Port()))))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("wake")) //nolint:errcheck
	waitFor(t, "the datagram after idling", func() bool { return c.count() == 1 })
	// Requests reach a sleeping loop too: Close, then Stop, each after
	// the loop went back to sleep.
	time.Sleep(idlePolls*pollInterval + 200*time.Millisecond)
	closed := make(chan struct{})
	go func() { s.Close(false); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("close did not wake the sleeping loop")
	}
	time.Sleep(idlePolls*pollInterval + 200*time.Millisecond)
	done := make(chan struct{})
	go func() { in.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("stop did not end the loops")
	}
}
