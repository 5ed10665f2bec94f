package media_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// Hole 6 of issue 17 (RTP hijack): a host on the media path that sends to
// a track's port first must not get its audio recorded, must not lock the
// real caller out, and must not end the call with an RTCP BYE. The
// attacker sends from 127.0.0.2 (all of 127/8 is local on Linux), the
// caller from 127.0.0.1.

const (
	callerHz   = 440
	attackerHz = 1500
)

// udpFrom connects a UDP socket bound to local (IP, or IP:port) to addr.
func udpFrom(t *testing.T, local, addr string) *net.UDPConn {
	t.Helper()
	la, err := net.ResolveUDPAddr("udp", local)
	if err != nil {
		la = &net.UDPAddr{IP: net.ParseIP(local)}
	}
	ra, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", la, ra)
	if err != nil {
		t.Fatalf("bind %s: %v (127/8 must be local)", local, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// senderFrom is newSender bound to local.
func senderFrom(t *testing.T, local, addr string, ssrc uint32, freq float64) *gatewaytest.Sender {
	t.Helper()
	return &gatewaytest.Sender{T: t, Conn: udpFrom(t, local, addr), SSRC: ssrc, Seq: 1000, Ts: 5000,
		Payload: func(i int) []byte { return gatewaytest.Tone(freq, i) }}
}

// freeLocalPort reserves nothing: it returns a port the kernel just gave
// out on 127.0.0.1, for a caller that must declare "IP:port" before it
// sends (the small window in which another process takes it is harmless
// in a test: the bind then fails loudly).
func freeLocalPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// rtcpPort is the RTCP port of a track's RTP address.
func rtcpPort(t *testing.T, rtpAddr string) string {
	t.Helper()
	ap := netip.MustParseAddrPort(rtpAddr)
	return netip.AddrPortFrom(ap.Addr(), ap.Port()+1).String()
}

// bye is an RTCP BYE for ssrc (V=2, SC=1, PT=203, length 1).
func bye(ssrc uint32) []byte {
	return []byte{0x81, 203, 0, 1, byte(ssrc >> 24), byte(ssrc >> 16), byte(ssrc >> 8), byte(ssrc)}
}

// toneHz estimates the frequency of a sine from its zero crossings.
func toneHz(pcm []int16) float64 {
	n := 0
	for i := 1; i < len(pcm); i++ {
		if (pcm[i-1] < 0) != (pcm[i] < 0) {
			n++
		}
	}
	return float64(n) / 2 / (float64(len(pcm)) / 8000)
}

func alive(tg *gatewaytest.Gateway, id string) bool {
	return tg.Do("GET", "/v1/sessions/"+id, nil, nil) == http.StatusOK
}

// attack sends what a host on the media path would: RTP to the track
// before the caller (ssrc: the caller's or its own), then an RTCP BYE on
// the RTCP port and multiplexed on the RTP port.
func attack(t *testing.T, from, rtpAddr string, ssrc uint32, n int) {
	t.Helper()
	a := senderFrom(t, from, rtpAddr, ssrc, attackerHz)
	a.SendRange(0, n, time.Millisecond)
	a.Send(bye(ssrc))
	if _, err := udpFrom(t, from, rtcpPort(t, rtpAddr)).Write(bye(ssrc)); err != nil {
		t.Fatal(err)
	}
}

func TestSourceDeclaredRefusesOtherSenders(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	const callerSSRC, attackN, callerN = 0x1234, 40, 100
	cases := []struct {
		name         string
		source       func(callerPort int) string
		attackerFrom string // address the attacker binds
		ssrc         uint32
	}{
		{"host+port, other host, same SSRC", func(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }, "127.0.0.2", callerSSRC},
		{"host+port, other host, own SSRC", func(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }, "127.0.0.2", 0xBAD},
		{"host+port, same host, other port", func(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }, "127.0.0.1", callerSSRC},
		{"host only, other host, same SSRC", func(int) string { return "127.0.0.1" }, "127.0.0.2", callerSSRC},
		{"host only, other host, own SSRC", func(int) string { return "127.0.0.1" }, "127.0.0.2", 0xBAD},
		{"IPv4-mapped declared, other host", func(int) string { return "::ffff:127.0.0.1" }, "127.0.0.2", callerSSRC},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			callerPort := freeLocalPort(t)
			s, code, e := tg.CreateWithSources(c.source(callerPort))
			if code != http.StatusCreated {
				t.Fatalf("create: %d %+v", code, e)
			}
			attack(t, c.attackerFrom, s.Tracks[0].RTP, c.ssrc, attackN)
			time.Sleep(100 * time.Millisecond)
			if !alive(tg, s.SessionID) {
				t.Fatal("the attacker's RTCP BYE ended the call")
			}
			caller := &gatewaytest.Sender{T: t, Conn: udpFrom(t, fmt.Sprintf("127.0.0.1:%d", callerPort), s.Tracks[0].RTP),
				SSRC: callerSSRC, Seq: 1000, Ts: 5000, Payload: func(i int) []byte { return gatewaytest.Tone(callerHz, i) }}
			caller.SendRange(0, callerN, time.Millisecond)
			time.Sleep(150 * time.Millisecond)
			sum := tg.End(s)
			if sum.Status != "COMPLETE" || sum.EndReason != "api" {
				t.Fatalf("summary %+v", sum)
			}
			if sum.Dropped[media.DropSource] != attackN || sum.Dropped[media.DropRTCPSource] != 2 {
				t.Fatalf("dropped %v, want source=%d rtcpSource=2", sum.Dropped, attackN)
			}
			b, res := tg.ExportTrack(s.RecordingID, playback.FormatWAV, "caller")
			pcm := gatewaytest.ParseWAV(t, b).Samples[0]
			if res.Tracks[0].Media != callerN || res.Tracks[0].SSRCs != 1 {
				t.Fatalf("recorded %+v, want only the caller's %d packets", res.Tracks[0], callerN)
			}
			if hz := toneHz(pcm); hz < callerHz-20 || hz > callerHz+20 {
				t.Fatalf("recorded a %.0f Hz tone, want the caller's %d Hz", hz, callerHz)
			}
		})
	}
	// The operator sees the refused RTCP in the metrics too.
	resp, err := gatewaytest.AuthGet(tg.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	want := fmt.Sprintf(`mediaseal_packets_dropped_total{reason="rtcpSource"} %d`, 2*len(cases))
	if !strings.Contains(string(body), want) {
		t.Fatalf("metrics lack %q", want)
	}
}

// With a host-only source, any port of that host is the sender: a media
// server may change ports (re-INVITE, transfer) and a new SSRC from it is
// accepted. What host-only does not stop: another process on the sender's
// host (docs/sessions.md).
func TestSourceHostOnlyAcceptsAnyPortOfTheHost(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	s, code, e := tg.CreateWithSources("127.0.0.1")
	if code != http.StatusCreated {
		t.Fatalf("create: %d %+v", code, e)
	}
	a := senderFrom(t, "127.0.0.1", s.Tracks[0].RTP, 0x1111, callerHz)
	a.SendRange(0, 50, time.Millisecond)
	b := senderFrom(t, "127.0.0.1", s.Tracks[0].RTP, 0x2222, callerHz) // a new port and SSRC: a transfer
	b.Seq, b.Ts = 9000, 90000
	b.SendRange(50, 100, time.Millisecond)
	// The BYE of the sender host, from yet another port, ends the call.
	if _, err := udpFrom(t, "127.0.0.1", rtcpPort(t, s.Tracks[0].RTP)).Write(bye(0x2222)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for alive(tg, s.SessionID) {
		if time.Now().After(deadline) {
			t.Fatal("the sender host's BYE did not end the call")
		}
		time.Sleep(20 * time.Millisecond)
	}
	tg.WaitStored(s.RecordingID)
	_, res := tg.ExportTrack(s.RecordingID, playback.FormatWAV, "caller")
	if res.Tracks[0].Media != 100 || res.Tracks[0].SSRCs != 2 {
		t.Fatalf("recorded %+v, want 100 packets of 2 SSRCs", res.Tracks[0])
	}
}

func TestSourceIsRequiredByDefault(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	for _, src := range []string{"", "0.0.0.0", "::", "224.0.0.1", "gateway.example", "127.0.0.1:0", "[::1]:x", "fe80::1%eth0", "127.0.0.1/32"} {
		t.Run("refused "+src, func(t *testing.T) {
			_, code, e := tg.CreateWithSources(src)
			if code != http.StatusBadRequest || !strings.Contains(e.Message, "tracks[0].source") {
				t.Fatalf("source %q: %d %+v, want 400 naming tracks[0].source", src, code, e)
			}
		})
	}
	// One track with a source does not excuse the other.
	if _, code, e := tg.CreateWithSources("127.0.0.1", ""); code != http.StatusBadRequest || !strings.Contains(e.Message, "tracks[1].source") {
		t.Fatalf("second track without source: %d %+v", code, e)
	}
	for _, src := range []string{"192.0.2.10", "192.0.2.10:40000", "2001:db8::1", "[2001:db8::1]:40000", "::ffff:192.0.2.10"} {
		s, code, e := tg.CreateWithSources(src)
		if code != http.StatusCreated {
			t.Fatalf("source %q: %d %+v", src, code, e)
		}
		tg.End(s)
	}
}

func latchingGateway(t *testing.T, window time.Duration) *gatewaytest.Gateway {
	return gatewaytest.Start(t, func(c *config.Config) {
		off := false
		c.Media.RequireSource = &off
		c.Media.LatchWindow = config.Duration(window)
	})
}

// Latching (requireSource: false, no source given) is first come, first
// served inside the window: what it protects is that the sender, once
// latched, is fixed — no one else can inject or send a BYE — and that after
// the window no one new can claim an idle track.
func TestLatchingWindow(t *testing.T) {
	t.Run("latched caller keeps the track; attacker's RTP and BYE dropped", func(t *testing.T) {
		tg := latchingGateway(t, 2*time.Second)
		s, code, e := tg.CreateWithSources("")
		if code != http.StatusCreated {
			t.Fatalf("create: %d %+v", code, e)
		}
		caller := senderFrom(t, "127.0.0.1", s.Tracks[0].RTP, 0x1234, callerHz)
		caller.SendRange(0, 50, time.Millisecond)
		attack(t, "127.0.0.2", s.Tracks[0].RTP, 0x1234, 30) // inside the window, but too late
		time.Sleep(100 * time.Millisecond)
		if !alive(tg, s.SessionID) {
			t.Fatal("a BYE from a non-latched address ended the call")
		}
		caller.SendRange(50, 100, time.Millisecond)
		time.Sleep(150 * time.Millisecond)
		sum := tg.End(s)
		if sum.Dropped[media.DropSource] != 30 || sum.Dropped[media.DropRTCPSource] != 2 || sum.EndReason != "api" {
			t.Fatalf("summary %+v", sum)
		}
		b, res := tg.ExportTrack(s.RecordingID, playback.FormatWAV, "caller")
		if hz := toneHz(gatewaytest.ParseWAV(t, b).Samples[0]); res.Tracks[0].Media != 100 || hz < callerHz-20 || hz > callerHz+20 {
			t.Fatalf("recorded %+v at %.0f Hz", res.Tracks[0], hz)
		}
	})
	t.Run("after the window no one can latch", func(t *testing.T) {
		window := 300 * time.Millisecond
		tg := latchingGateway(t, window)
		s, _, _ := tg.CreateWithSources("")
		time.Sleep(window + 200*time.Millisecond)
		attack(t, "127.0.0.2", s.Tracks[0].RTP, 0xBAD, 20)
		senderFrom(t, "127.0.0.1", s.Tracks[0].RTP, 0x1234, callerHz).SendRange(0, 20, time.Millisecond)
		time.Sleep(100 * time.Millisecond)
		if !alive(tg, s.SessionID) {
			t.Fatal("a BYE ended a call whose track no one latched")
		}
		sum := tg.End(s)
		if sum.Dropped[media.DropSource] != 40 || sum.Records != 0 {
			t.Fatalf("dropped %v recorded %d: a sender latched after the window", sum.Dropped, sum.Records)
		}
	})
	t.Run("an RTCP BYE alone does not latch", func(t *testing.T) {
		tg := latchingGateway(t, 2*time.Second)
		s, _, _ := tg.CreateWithSources("")
		a := senderFrom(t, "127.0.0.2", s.Tracks[0].RTP, 0xBAD, attackerHz)
		a.Send(bye(0xBAD)) // first datagram of the track: RTCP
		a.Send([]byte{0x80, 0, 0})
		senderFrom(t, "127.0.0.1", s.Tracks[0].RTP, 0x1234, callerHz).SendRange(0, 20, time.Millisecond)
		time.Sleep(100 * time.Millisecond)
		sum := tg.End(s)
		if sum.Records != 20 || sum.Dropped[media.DropRTCPSource] != 1 || sum.Dropped[media.DropMalformed] != 1 {
			t.Fatalf("recorded %d dropped %v", sum.Records, sum.Dropped)
		}
	})
	// What latching does not protect: a host that sends first inside the
	// window owns the track. docs/sessions.md says so; declare a source.
	t.Run("attacker first inside the window owns the track", func(t *testing.T) {
		tg := latchingGateway(t, 2*time.Second)
		s, _, _ := tg.CreateWithSources("")
		senderFrom(t, "127.0.0.2", s.Tracks[0].RTP, 0xBAD, attackerHz).SendRange(0, 20, time.Millisecond)
		senderFrom(t, "127.0.0.1", s.Tracks[0].RTP, 0x1234, callerHz).SendRange(0, 20, time.Millisecond)
		time.Sleep(100 * time.Millisecond)
		sum := tg.End(s)
		if sum.Records != 20 || sum.Dropped[media.DropSource] != 20 {
			t.Fatalf("recorded %d dropped %v", sum.Records, sum.Dropped)
		}
	})
}

// Ports of consecutive sessions are drawn at random: a host that learnt
// one session's port cannot aim at the next call's.
func TestSessionPortsAreNotSequential(t *testing.T) {
	tg := gatewaytest.Start(t, func(c *config.Config) {
		c.Media.PortMin, c.Media.PortMax = 20000, 29999
	})
	var ports []int
	for range 30 {
		s := tg.CreateCall("q", "caller")
		ports = append(ports, int(netip.MustParseAddrPort(s.Tracks[0].RTP).Port()))
		tg.End(s)
	}
	next, seen := 0, map[int]bool{}
	for i, p := range ports {
		if p%2 != 0 || p < 20000 || p > 29998 {
			t.Fatalf("port %d: not an even port of the range", p)
		}
		seen[p] = true
		if i > 0 && p == ports[i-1]+2 {
			next++
		}
	}
	// Sequential allocation gives 29 "previous + 2"; random, about 0.03.
	if next > 2 || len(seen) < 28 {
		t.Fatalf("ports look sequential: %v", ports)
	}
}
