package siprec

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
	pion "github.com/pion/srtp/v3"

	"github.com/mediaseal/mediaseal/media/srtp"
	"github.com/mediaseal/mediaseal/policy"
)

// sdesLine is an RTP/SAVP audio line offering crypto (a=crypto values).
func sdesLine(port int, label string, crypto ...string) string {
	l := strings.Replace(audioLine(port, label, "sendonly"), "RTP/AVP", "RTP/SAVP", 1)
	for _, c := range crypto {
		l += "a=crypto:" + c + "\r\n"
	}
	return l
}

// srcSender is the SRC's encrypting side for a key it offered.
func srcSender(t *testing.T, c srtp.Crypto) *pion.Context {
	t.Helper()
	tx, err := pion.CreateContext(c.Key[:16], c.Key[16:], pion.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func newKey(t *testing.T, tag uint32) srtp.Crypto {
	t.Helper()
	c, err := srtp.Generate(tag, srtp.AESCM128SHA1_80)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// answerCrypto returns the answer's a=crypto value of each m-line.
func answerCrypto(res *sip.Response) []string {
	var out []string
	for _, l := range strings.Split(string(res.Body()), "\r\n") {
		switch {
		case strings.HasPrefix(l, "m="):
			out = append(out, "")
		case strings.HasPrefix(l, "a=crypto:") && len(out) > 0:
			out[len(out)-1] = strings.TrimPrefix(l, "a=crypto:")
		}
	}
	return out
}

// An SDES-SRTP offer is answered RTP/SAVP with the SRS's own a=crypto of
// the first usable offered attribute's tag and suite (RFC 4568 §7.1.2),
// and the streams are recorded decrypted under the offered keys; a rekey
// by re-INVITE loses nothing; changing a stream's protection is refused.
func TestSDESOfferRecordedDecryptedAndRekeyed(t *testing.T) {
	s := startSRS(t, func(c *Config) { c.SDESOverPlainSIP = true })
	d := newDialog()
	k1, k2 := newKey(t, 2), newKey(t, 1)
	// Line 1 offers a suite the SRS does not take first (tag 1), then k1.
	offer := sdpOffer(sdesLine(7000, "1", "1 F8_128_HMAC_SHA1_80 inline:"+strings.Repeat("A", 40), k1.Attribute()),
		sdesLine(7002, "2", k2.Attribute()))
	res := s.invite(d, mpType, rsBody(offer, sample(t, "metadata-basic.xml")))
	if res.StatusCode != 200 {
		t.Fatalf("INVITE: %d %v", res.StatusCode, res.GetHeader("Reason"))
	}
	if !strings.Contains(string(res.Body()), "RTP/SAVP") {
		t.Fatalf("answer is not RTP/SAVP:\n%s", res.Body())
	}
	ac := answerCrypto(res)
	if len(ac) != 2 || !strings.HasPrefix(ac[0], "2 AES_CM_128_HMAC_SHA1_80 inline:") || !strings.HasPrefix(ac[1], "1 AES_CM_128_HMAC_SHA1_80 inline:") ||
		ac[0] == k1.Attribute() || ac[1] == k2.Attribute() {
		t.Fatalf("answer a=crypto %q: want the accepted tags and suites with the SRS's own keys", ac)
	}
	sess := s.onlySession()
	if a := sess.Addrs(); a[0].SRTP == nil || a[1].SRTP == nil {
		t.Fatalf("tracks not keyed: %+v", a)
	}
	conn, err := net.Dial("udp", sess.Addrs()[0].RTP)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tx := srcSender(t, k1)
	seq := uint16(100)
	send := func(tx *pion.Context, n int) {
		for range n {
			b, err := tx.EncryptRTP(nil, rtpPacket(seq), nil)
			if err != nil {
				t.Fatal(err)
			}
			conn.Write(b)
			seq++
		}
	}
	send(tx, 10)
	waitRecorded(t, sess, 10)
	conn.Write(rtpPacket(seq)) // plain RTP on an SRTP stream: not recorded

	// Rekey: a new a=crypto for stream 1 in a re-INVITE.
	k3 := newKey(t, 5)
	res = s.do(s.request(d, sip.INVITE, typeSDP, []byte(sdpOffer(sdesLine(7000, "1", k3.Attribute()), sdesLine(7002, "2", k2.Attribute())))))
	if res.StatusCode != 200 {
		t.Fatalf("re-INVITE with a new key: %d %v", res.StatusCode, res.GetHeader("Reason"))
	}
	if ac2 := answerCrypto(res); !strings.HasPrefix(ac2[0], "5 ") || ac2[0] == ac[0] || ac2[1] != ac[1] {
		t.Fatalf("rekey answer a=crypto %q (before %q): want a new key for stream 1 only", ac2, ac)
	}
	send(tx, 3) // sent under the old key before the SRC switched
	waitRecorded(t, sess, 13)
	send(srcSender(t, k3), 5)
	waitRecorded(t, sess, 18)

	for name, o := range map[string]string{
		"SRTP stream re-offered as plain RTP": sdpOffer(audioLine(7000, "1", "sendonly"), sdesLine(7002, "2", k2.Attribute())),
		"SRTP stream without usable crypto":   sdpOffer(sdesLine(7000, "1", "1 AES_CM_128_HMAC_SHA1_80 inline:short"), sdesLine(7002, "2", k2.Attribute())),
	} {
		if res := s.do(s.request(d, sip.INVITE, typeSDP, []byte(o))); res.StatusCode != 488 {
			t.Fatalf("%s: %d, want 488", name, res.StatusCode)
		}
	}
	if c := sess.Counters(); c.Recorded != 18 || c.Auth != 1 {
		t.Fatalf("counters %+v: want 18 recorded and the plain packet refused", c)
	}
	if res := s.do(s.request(d, sip.BYE, "", nil)); res.StatusCode != 200 {
		t.Fatalf("BYE: %d", res.StatusCode)
	}
}

// A stream recorded as plain RTP cannot be switched to SRTP by a
// re-INVITE (its packets would be ciphertext recorded as audio).
func TestPlainStreamReofferedAsSRTPRefused(t *testing.T) {
	s := startSRS(t, func(c *Config) { c.SDESOverPlainSIP = true })
	d := newDialog()
	res := s.invite(d, mpType, rsBody(sdpOffer(audioLine(7000, "1", "sendonly"), audioLine(7002, "2", "sendonly")), sample(t, "metadata-basic.xml")))
	if res.StatusCode != 200 {
		t.Fatalf("INVITE: %d", res.StatusCode)
	}
	k := newKey(t, 1)
	res = s.do(s.request(d, sip.INVITE, typeSDP, []byte(sdpOffer(sdesLine(7000, "1", k.Attribute()), audioLine(7002, "2", "sendonly")))))
	if res.StatusCode != 488 || !strings.Contains(fmt.Sprint(res.GetHeader("Reason")), "plain RTP") {
		t.Fatalf("re-INVITE switching a plain stream to SRTP: %d %v", res.StatusCode, res.GetHeader("Reason"))
	}
	if len(s.m.Sessions()) != 1 {
		t.Fatal("the refused re-INVITE ended the recording")
	}
}

// Over plain SIP (the default), SDES keys are not taken: anyone on the
// path read them with the offer.
func TestSDESOverPlainSIPRefused(t *testing.T) {
	s := startSRS(t, nil)
	k := newKey(t, 1)
	res := s.invite(newDialog(), mpType, rsBody(sdpOffer(sdesLine(7000, "1", k.Attribute()), sdesLine(7002, "2", k.Attribute())), sample(t, "metadata-basic.xml")))
	if res.StatusCode != 488 || !strings.Contains(fmt.Sprint(res.GetHeader("Reason")), "TLS") {
		t.Fatalf("SDES over TCP: %d %v, want 488 naming TLS", res.StatusCode, res.GetHeader("Reason"))
	}
	if res.GetHeader("Warning") == nil {
		t.Fatal("no Warning")
	}
}

// rtpPacket is a PCMU packet of seq.
func rtpPacket(seq uint16) []byte {
	b := make([]byte, 12+160)
	b[0], b[1] = 0x80, 0
	b[2], b[3] = byte(seq>>8), byte(seq)
	ts := uint32(seq) * 160
	b[4], b[5], b[6], b[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
	b[8], b[9], b[10], b[11] = 0, 0, 0x12, 0x34
	return b
}

// A queue whose policy requires SRTP refuses a plain RTP recording with
// 488 and a Warning; the same call offered as SDES-SRTP is recorded.
func TestPolicyRequiringSRTPRefusesPlainOffer(t *testing.T) {
	pci := policy.Policy{ID: "pci", Name: "pci", RecordingType: policy.RecordingAudio, TargetIDs: []string{"*"}, RequireSRTP: true}
	s := startSRS(t, func(c *Config) { c.SDESOverPlainSIP = true }, pci)
	res := s.invite(newDialog(), mpType, rsBody(sdpOffer(audioLine(7000, "1", "sendonly"), audioLine(7002, "2", "sendonly")), sample(t, "metadata-basic.xml")))
	if res.StatusCode != 488 || res.GetHeader("Warning") == nil || !strings.Contains(fmt.Sprint(res.GetHeader("Reason")), "SRTP") {
		t.Fatalf("plain offer to a queue requiring SRTP: %d %v %v", res.StatusCode, res.GetHeader("Warning"), res.GetHeader("Reason"))
	}
	if len(s.m.Sessions()) != 0 {
		t.Fatal("a refused INVITE left a session")
	}
	k1, k2 := newKey(t, 1), newKey(t, 1)
	res = s.invite(newDialog(), mpType, rsBody(sdpOffer(sdesLine(7000, "1", k1.Attribute()), sdesLine(7002, "2", k2.Attribute())), sample(t, "metadata-basic.xml")))
	if res.StatusCode != 200 {
		t.Fatalf("SDES offer to a queue requiring SRTP: %d %v", res.StatusCode, res.GetHeader("Reason"))
	}
}
