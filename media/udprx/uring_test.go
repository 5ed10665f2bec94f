//go:build linux && (amd64 || arm64)

package udprx

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

func TestChooseBackend(t *testing.T) {
	def := backendEpoll
	if uringDefault && uringWorks() {
		def = backendUring
	}
	for _, tc := range []struct {
		env  string
		want backend
	}{
		{"epoll", backendEpoll},
		{"uring", backendUring},
		{"", def},
	} {
		t.Setenv(envBackend, tc.env)
		if got := chooseBackend(); got != tc.want {
			t.Errorf("%s=%s: %s, want %s", envBackend, tc.env, got, tc.want)
		}
		if got := New(); (got.uloops != nil) != (tc.want == backendUring) || got.Backend() != tc.want.String() {
			t.Errorf("%s=%s: New built the %s backend, want %s", envBackend, tc.env, got.Backend(), tc.want)
		}
	}
}

// The rings a kernel without DEFER_TASKRUN (< 6.1) or COOP_TASKRUN
// (< 5.19) gets deliver, drain and wake the same way.
func TestUringFallbackRings(t *testing.T) {
	if err := uringRefused(); err != nil {
		t.Skipf("io_uring refused here: %v", err)
	}
	all := ringSetups
	defer func() { ringSetups = all }()
	for i, name := range []string{"coop_taskrun", "plain"} {
		t.Run(name, func(t *testing.T) {
			ringSetups = all[i+1:]
			t.Run("deliver", func(t *testing.T) { testDeliversEveryDatagramWithItsSource(t, backendUring) })
			t.Run("drain", func(t *testing.T) { testCloseDrainsAndStops(t, backendUring) })
			t.Run("idle", func(t *testing.T) { testWakesFromIdle(t, backendUring) })
		})
	}
}

// A socket closed after its Set stopped is closed, without waiting for a
// loop that is gone.
func TestCloseAfterStop(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		in := newSet(b)
		s, err := in.Listen(netip.MustParseAddrPort("127.0.0.1:0"), 0)
		if err != nil {
			t.Fatal(err)
		}
		var c collector
		if err := s.Start(c.handle); err != nil {
			t.Fatal(err)
		}
		in.Stop()
		done := make(chan struct{})
		go func() { s.Close(true); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("close after stop hangs")
		}
	})
}

// When more datagrams wait than the ring has buffers, the multishot
// receive ends with ENOBUFS; the loop re-arms it once the handled buffers
// are back, and what the socket still held arrives, in order.
func TestRingRunsDry(t *testing.T) {
	if err := uringRefused(); err != nil {
		t.Skipf("io_uring refused here: %v", err)
	}
	in := newSet(backendUring)
	in.ubufs = 8
	defer in.Stop()
	s, c := listenCollect(t, in, 1<<20)
	t.Logf("ring setup flags %#x", s.u.flags.Load())
	conn := dial(t, s)
	release := hold(s)
	const n = 150
	for i := range n {
		if _, err := conn.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	release()
	waitFor(t, "every datagram", func() bool { return c.count() == n })
	c.mu.Lock()
	for i, g := range c.got {
		if len(g) != 1 || g[0] != byte(i) {
			t.Fatalf("datagram %d: % x (lost or out of order)", i, g)
		}
	}
	c.mu.Unlock()
	if s.u.enobufs.Load() == 0 {
		t.Fatal("the ring never ran dry: the test does not test re-arming")
	}
	if e := s.u.errs.Load(); e != 0 {
		t.Fatalf("%d receives ended by an error", e)
	}
	t.Logf("ENOBUFS %d, re-arms %d", s.u.enobufs.Load(), s.u.rearms.Load())
	s.Close(false)
}

// Thousands of sockets on one Set each get their few datagrams, in order.
func TestManySockets(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		in := newSet(b)
		defer in.Stop()
		const socks, each = 2000, 3
		type sock struct {
			s *Socket
			c collector
		}
		all := make([]*sock, socks)
		for i := range all {
			s, err := in.Listen(netip.MustParseAddrPort("127.0.0.1:0"), 0)
			if err != nil {
				t.Fatal(err)
			}
			all[i] = &sock{s: s}
			if err := s.Start(all[i].c.handle); err != nil {
				t.Fatal(err)
			}
		}
		defer func() {
			for _, x := range all {
				x.s.Close(false)
			}
		}()
		tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Close()
		for k := range each {
			for i, x := range all {
				to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(x.s.Port()))
				if _, err := tx.WriteToUDPAddrPort([]byte{byte(k), byte(i), byte(i >> 8)}, to); err != nil {
					t.Fatal(err)
				}
			}
		}
		waitFor(t, "every socket's datagrams", func() bool {
			for _, x := range all {
				if x.c.count() < each {
					return false
				}
			}
			return true
		})
		for i, x := range all {
			x.c.mu.Lock()
			for k, g := range x.c.got {
				if len(g) != 3 || int(g[0]) != k || int(g[1])|int(g[2])<<8 != i {
					t.Fatalf("socket %d datagram %d: % x", i, k, g)
				}
			}
			x.c.mu.Unlock()
		}
		if all[0].s.u != nil && all[0].s.u.errs.Load() != 0 {
			t.Fatalf("%d receives ended by an error", all[0].s.u.errs.Load())
		}
	})
}

// Closing one socket while the others receive hands over its queued
// datagrams, nothing after, and does not disturb the others.
func TestCloseOneWhileOthersFlow(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		in := newSet(b)
		defer in.Stop()
		const socks = 50
		ss := make([]*Socket, socks)
		cs := make([]*collector, socks)
		for i := range ss {
			s, err := in.Listen(netip.MustParseAddrPort("127.0.0.1:0"), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			cs[i] = new(collector)
			if err := s.Start(cs[i].handle); err != nil {
				t.Fatal(err)
			}
			ss[i] = s
		}
		tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Close()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				for _, s := range ss {
					to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.Port()))
					tx.WriteToUDPAddrPort([]byte{byte(seq)}, to) //nolint:errcheck // the closed port refuses
				}
				time.Sleep(time.Millisecond)
			}
		}()
		time.Sleep(50 * time.Millisecond)
		ss[0].Close(true)
		cs[0].after.Store(true)
		closedAt := make([]int, socks)
		for i := range cs {
			closedAt[i] = cs[i].count()
		}
		time.Sleep(50 * time.Millisecond)
		close(stop)
		wg.Wait()
		if cs[0].late.Load() != 0 {
			t.Fatal("handler of the closed socket called after close returned")
		}
		for i := 1; i < socks; i++ {
			if cs[i].count() <= closedAt[i] {
				t.Fatalf("socket %d received nothing after socket 0 closed", i)
			}
			ss[i].Close(false)
		}
		// In order and none lost on the closed socket: each datagram is
		// its sequence number (mod 256), sent 1 ms apart.
		cs[0].mu.Lock()
		for k, g := range cs[0].got {
			if g[0] != byte(k) {
				t.Fatalf("closed socket's datagram %d is %d: lost or out of order", k, g[0])
			}
		}
		cs[0].mu.Unlock()
		if cs[0].count() == 0 {
			t.Fatal("closed socket received nothing")
		}
	})
}
