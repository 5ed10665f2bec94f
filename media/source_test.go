package media

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/mediaseal/mediaseal/media/udprx"
)

func TestParseSource(t *testing.T) {
	ok := []struct {
		in   string
		addr string
		port uint16
	}{
		{"", "invalid IP", 0},
		{"192.0.2.10", "192.0.2.10", 0},
		{"192.0.2.10:40000", "192.0.2.10", 40000},
		{"2001:db8::1", "2001:db8::1", 0},
		{"[2001:db8::1]:40000", "2001:db8::1", 40000},
		{"::ffff:192.0.2.10", "192.0.2.10", 0}, // unmapped, as the receive path does
		{"[::ffff:192.0.2.10]:5", "192.0.2.10", 5},
	}
	for _, c := range ok {
		a, p, err := parseSource(c.in)
		if err != nil || a.String() != c.addr || p != c.port {
			t.Errorf("parseSource(%q) = %v %d %v, want %s %d", c.in, a, p, err, c.addr, c.port)
		}
	}
	for _, in := range []string{"0.0.0.0", "::", "[::]:5", "224.0.0.1", "ff02::1", "host.example", "192.0.2.10:0",
		"192.0.2.10:70000", "[::1]:x", "fe80::1%eth0", "192.0.2.0/24", " 192.0.2.10"} {
		if _, _, err := parseSource(in); err == nil {
			t.Errorf("parseSource(%q) accepted", in)
		}
	}
}

// The sender rules of docs/sessions.md: the address decides, never the SSRC.
func TestFromSender(t *testing.T) {
	ap := netip.MustParseAddrPort
	latched := ap("192.0.2.10:5000")
	cases := []struct {
		name   string
		tr     *track
		from   string
		rtcp   bool
		accept bool
	}{
		{"host+port: same", &track{source: latched.Addr(), sourcePort: 5000}, "192.0.2.10:5000", false, true},
		{"host+port: other port", &track{source: latched.Addr(), sourcePort: 5000}, "192.0.2.10:5002", false, false},
		{"host+port: RTCP from port+1", &track{source: latched.Addr(), sourcePort: 5000}, "192.0.2.10:5001", true, true},
		{"host+port: RTP from port+1", &track{source: latched.Addr(), sourcePort: 5000}, "192.0.2.10:5001", false, false},
		{"host+port: other host", &track{source: latched.Addr(), sourcePort: 5000}, "192.0.2.11:5000", false, false},
		{"host: any port", &track{source: latched.Addr()}, "192.0.2.10:6000", false, true},
		{"host: other host", &track{source: latched.Addr()}, "192.0.2.11:5000", true, false},
		{"host: v4-mapped sender", &track{source: latched.Addr()}, "[::ffff:192.0.2.10]:1", false, true},
		{"none latched yet", &track{}, "192.0.2.10:5000", true, false},
	}
	for _, c := range cases {
		if got := c.tr.fromSender(ap(c.from), c.rtcp); got != c.accept {
			t.Errorf("%s: fromSender(%s) = %v", c.name, c.from, got)
		}
	}
	var tr track
	if !tr.latch(latched) || !tr.fromSender(ap("192.0.2.10:5001"), true) || tr.fromSender(ap("192.0.2.11:5000"), false) {
		t.Fatal("latched host not matched by host")
	}
	if tr.latch(ap("192.0.2.11:5000")) {
		t.Fatal("a second address latched over the first")
	}
}

// The pool hands out every pair of its range once, at random, and reuses
// a pair only after release.
func TestPortPoolRandomAndCollisionFree(t *testing.T) {
	p := newPortPool(netip.MustParseAddr("127.0.0.1"), 30001, 30200) // odd min: starts at 30002
	seen := map[int]bool{}
	var order []int
	p.mu.Lock()
	for {
		port, ok := p.pick(nil)
		if !ok {
			break
		}
		if port%2 != 0 || port < 30002 || port+1 > 30200 || seen[port] {
			t.Fatalf("pick gave %d (seen %v)", port, seen[port])
		}
		seen[port] = true
		order = append(order, port)
	}
	p.mu.Unlock()
	if len(seen) != 99 {
		t.Fatalf("%d pairs handed out, want 99", len(seen))
	}
	sequential := 0
	for i := 1; i < len(order); i++ {
		if order[i] == order[i-1]+2 {
			sequential++
		}
	}
	if sequential > 10 {
		t.Fatalf("%d of %d picks were the previous port + 2: %v", sequential, len(order)-1, order)
	}
	p.release(order[5])
	p.mu.Lock()
	port, ok := p.pick(nil)
	p.mu.Unlock()
	if !ok || port != order[5] {
		t.Fatalf("after one release pick gave %d %v, want %d", port, ok, order[5])
	}
}

func TestListenPairSkipsRefusedPorts(t *testing.T) {
	in := udprx.New()
	defer in.Stop()
	p := newPortPool(netip.MustParseAddr("127.0.0.1"), 30300, 30307) // four pairs
	// Another process holds 30302's RTCP port: that pair is skipped.
	hold, err := in.Listen(netip.MustParseAddrPort("127.0.0.1:30303"), 0)
	if err != nil {
		t.Skipf("port 30303 busy on this host: %v", err) // not the pool's doing
	}
	defer hold.Close(false)
	var got []int
	for range 3 {
		r, c, err := p.listenPair(in, 0)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Port())
		defer r.Close(false)
		defer c.Close(false)
	}
	for _, port := range got {
		if port == 30302 {
			t.Fatalf("pair 30302 handed out while its RTCP port is taken: %v", got)
		}
	}
	if _, _, err := p.listenPair(in, 0); !errors.Is(err, ErrCapacity) {
		t.Fatalf("full pool: %v, want ErrCapacity", err)
	}
}

// seqPool is the allocator before issue 17 (sequential, a map of used
// ports), kept here as the baseline of BenchmarkPortPick.
type seqPool struct {
	min, max, next int
	used           map[int]bool
}

func (p *seqPool) pick() (int, bool) {
	for range (p.max - p.min + 1) / 2 {
		port := p.next
		p.next += 2
		if p.next+1 > p.max {
			p.next = p.min
		}
		if !p.used[port] {
			p.used[port] = true
			return port, true
		}
	}
	return 0, false
}

// BenchmarkPortPick compares one pick+release of the old sequential
// allocator with the random one, with the range a tenth and nine tenths
// full (the bench harness opens thousands of sessions in 10,000 ports).
func BenchmarkPortPick(b *testing.B) {
	const lo, hi = 40000, 49999
	for _, fill := range []float64{0.1, 0.9} {
		b.Run(fmt.Sprintf("sequential/fill=%.0f%%", fill*100), func(b *testing.B) {
			p := &seqPool{min: lo, max: hi, next: lo, used: map[int]bool{}}
			for range int(fill * (hi - lo + 1) / 2) {
				p.pick()
			}
			b.ReportAllocs()
			for b.Loop() {
				port, _ := p.pick()
				delete(p.used, port)
			}
		})
		b.Run(fmt.Sprintf("random/fill=%.0f%%", fill*100), func(b *testing.B) {
			p := newPortPool(netip.MustParseAddr("127.0.0.1"), lo, hi)
			p.mu.Lock()
			defer p.mu.Unlock()
			for range int(fill * (hi - lo + 1) / 2) {
				p.pick(nil)
			}
			b.ReportAllocs()
			for b.Loop() {
				port, _ := p.pick(nil)
				p.releaseLocked(port)
			}
		})
	}
}
