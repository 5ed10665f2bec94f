//go:build linux && (amd64 || arm64)

package udprx

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// BenchmarkReceive compares the backends in one run: benchSocks sockets
// on one Set, fed by a sender goroutine with sendmmsg (ipv4 WriteBatch),
// either paced at a media-like rate (each socket then holds about one
// datagram per poll: the gateway's case) or as fast as the receiver keeps
// up. Reported per datagram: wall ns, CPU µs of the whole process, and
// rx-cpu-us, the process minus the sender's thread (RUSAGE_THREAD).
//
//	go test -run '^$' -bench Receive -benchtime 400000x ./media/udprx
func BenchmarkReceive(b *testing.B) {
	for _, rate := range []int{100_000, 0} {
		for _, be := range []backend{backendEpoll, backendUring} {
			name := fmt.Sprintf("%s/rate=%dk", be, rate/1000)
			if rate == 0 {
				name = be.String() + "/rate=max"
			}
			b.Run(name, func(b *testing.B) {
				if be == backendUring {
					if err := uringRefused(); err != nil {
						b.Skipf("io_uring refused here: %v", err)
					}
				}
				benchReceive(b, be, rate)
			})
		}
	}
}

const benchSocks = 2000

func benchReceive(b *testing.B, be backend, rate int) {
	in := newSet(be)
	defer in.Stop()
	var got atomic.Int64
	total := int64(b.N)
	all := make(chan struct{})
	h := func([]byte, netip.AddrPort, time.Time) {
		if got.Add(1) == total {
			close(all)
		}
	}
	msgs := make([]ipv4.Message, benchSocks)
	payload := make([]byte, 172) // a 20 ms G.711 RTP packet
	for i := range msgs {
		s, err := in.Listen(netip.MustParseAddrPort("127.0.0.1:0"), 1<<20)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close(false)
		if err := s.Start(h); err != nil {
			b.Fatal(err)
		}
		msgs[i] = ipv4.Message{Buffers: [][]byte{payload}, Addr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.Port()}}
	}
	tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Close()
	_ = tx.SetWriteBuffer(4 << 20)
	pc := ipv4.NewPacketConn(tx)

	senderCPU := make(chan time.Duration, 1)
	b.ResetTimer()
	cpu0 := rusage(unix.RUSAGE_SELF)
	start := time.Now()
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		t0 := rusage(unix.RUSAGE_THREAD)
		sent, next := int64(0), 0
		for sent < total {
			var due int64
			if rate > 0 {
				due = min(total, int64(time.Since(start).Seconds()*float64(rate))+1)
			} else {
				// As fast as the receiver keeps up: at most a few
				// datagrams queued per socket.
				due = min(total, got.Load()+4*benchSocks)
			}
			for sent < due {
				n := int(min(due-sent, 256, int64(benchSocks-next)))
				w, err := pc.WriteBatch(msgs[next:next+n], 0)
				if err != nil {
					b.Error(err)
					senderCPU <- rusage(unix.RUSAGE_THREAD) - t0
					return
				}
				sent += int64(w)
				next = (next + w) % benchSocks
			}
			if rate > 0 {
				time.Sleep(pollInterval)
			} else {
				runtime.Gosched()
			}
		}
		senderCPU <- rusage(unix.RUSAGE_THREAD) - t0
	}()
	select {
	case <-all:
	case <-time.After(time.Duration(total)*time.Second/100_000 + 10*time.Second):
	}
	wall := time.Since(start)
	cpu := rusage(unix.RUSAGE_SELF) - cpu0
	sender := <-senderCPU
	b.StopTimer()
	n := float64(got.Load())
	if lost := total - got.Load(); lost > 0 {
		b.Logf("%d of %d datagrams lost", lost, total)
	}
	b.ReportMetric(float64(wall.Nanoseconds())/n, "ns/dgram")
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-us/dgram")
	b.ReportMetric(float64((cpu-sender).Microseconds())/n, "rx-cpu-us/dgram")
	b.ReportMetric(0, "ns/op")
	if l := in.uloops; len(l) > 0 && l[0] != nil {
		b.ReportMetric(float64(l[0].enobufs.Load()), "enobufs")
		b.ReportMetric(n/float64(l[0].rounds.Load()), "dgrams/poll")
	}
}

// rusage is the user+system CPU time of who (RUSAGE_SELF, RUSAGE_THREAD).
func rusage(who int) time.Duration {
	var ru unix.Rusage
	_ = unix.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
