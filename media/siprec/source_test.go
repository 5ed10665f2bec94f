package siprec

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestParseConn(t *testing.T) {
	for in, want := range map[string]string{
		"IN IP4 192.0.2.1": "192.0.2.1", "IN IP4 233.252.0.1/127": "233.252.0.1", "IN IP6 2001:db8::1": "2001:db8::1",
		"IN IP4 2001:db8::1": "invalid IP", "IN IP6 192.0.2.1": "invalid IP", "IN IP4 src.example": "invalid IP",
		"IN IP4": "invalid IP", "XX IP4 192.0.2.1": "invalid IP",
	} {
		if got := parseConn(in).String(); got != want {
			t.Errorf("parseConn(%q) = %s, want %s", in, got, want)
		}
	}
}

// The SRS declares each track's sender from the offer's c= address, so a
// host that is not the SRC cannot inject into a recorded SIPREC call.
func TestTrackSourceFromConnectionAddress(t *testing.T) {
	s := startSRS(t, nil)
	// Line 1 uses the session's c= (127.0.0.1); line 2 its own (127.0.0.3).
	offer := sdpOffer(audioLine(7000, "1", "sendonly"), audioLine(7002, "2", "sendonly")+"c=IN IP4 127.0.0.3\r\n")
	res := s.invite(newDialog(), mpType, rsBody(offer, sample(t, "metadata-basic.xml")))
	if res.StatusCode != 200 {
		t.Fatalf("INVITE: %d %s", res.StatusCode, res.GetHeader("Reason"))
	}
	sess := s.onlySession()
	if got := []string{sess.Request.Tracks[0].Source, sess.Request.Tracks[1].Source}; got[0] != "127.0.0.1" || got[1] != "127.0.0.3" {
		t.Fatalf("track sources %v, want [127.0.0.1 127.0.0.3]", got)
	}
	rtp := []byte{0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 1, 0xff, 0xff}
	send := func(from string) {
		c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(from)}, mustUDPAddr(t, sess.Addrs()[0].RTP))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write(rtp)
	}
	send("127.0.0.2") // first, from a host that is not the SRC
	send("127.0.0.1")
	deadline := time.Now().Add(5 * time.Second)
	for (sess.Counters().Recorded == 0 || sess.Counters().Source == 0) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if c := sess.Counters(); c.Recorded != 1 || c.Source != 1 {
		t.Fatalf("recorded %d, dropped as source %d: want the SRC's packet only", c.Recorded, c.Source)
	}
}

// With no usable c= address the SRS has no sender to declare; with the
// default (sources required) the offer is not acceptable.
func TestOfferWithoutConnectionAddressIsRefused(t *testing.T) {
	s := startSRS(t, nil)
	for name, offer := range map[string]string{
		"none":    strings.Replace(sdpOffer(audioLine(7000, "1", "sendonly")), "c=IN IP4 127.0.0.1\r\n", "", 1),
		"0.0.0.0": strings.Replace(sdpOffer(audioLine(7000, "1", "sendonly")), "127.0.0.1\r\nt=", "0.0.0.0\r\nt=", 1),
		"a name":  strings.Replace(sdpOffer(audioLine(7000, "1", "sendonly")), "c=IN IP4 127.0.0.1", "c=IN IP4 src.example", 1),
	} {
		res := s.invite(newDialog(), mpType, rsBody(offer, sample(t, "metadata-basic.xml")))
		if res.StatusCode != 488 || !strings.Contains(res.GetHeader("Reason").Value(), "source") {
			t.Errorf("%s: %d %v, want 488 naming the source", name, res.StatusCode, res.GetHeader("Reason"))
		}
	}
	if n := len(s.m.Sessions()); n != 0 {
		t.Fatalf("%d sessions left by refused offers", n)
	}
}

func mustUDPAddr(t *testing.T, s string) *net.UDPAddr {
	t.Helper()
	a, err := net.ResolveUDPAddr("udp", s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
