package media_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	pion "github.com/pion/srtp/v3"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/media/srtp"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestSIPRECOverTLS forks a call to the running gateway's SIPREC TLS
// listener (certificate from the config, issued by the operator's CA) and
// records it, then a second one with SDES-SRTP media keyed in the TLS
// offer; what a host on the path tries instead is refused: plain SIP to
// the TLS port gets no answer and opens no session, and TLS below 1.2 is
// not negotiated.
func TestSIPRECOverTLS(t *testing.T) {
	ca := testenv.NewCA(t, "mediaseal SIP test CA")
	cert, key := ca.Issue(2, false)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "sip.crt"), filepath.Join(dir, "sip.key")
	if err := os.WriteFile(certFile, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	tg := gatewaytest.Start(t, func(c *config.Config) {
		c.SIPREC.Enabled = true
		c.SIPREC.Listen = []config.SIPListen{{Transport: "tls", Addr: "127.0.0.1:0"}}
		c.SIPREC.TLS = config.SIPTLS{CertFile: certFile, KeyFile: keyFile}
		c.SIPREC.Auth.AllowFrom = []string{"127.0.0.0/8"}
	})
	addr := tg.SIPAddr("tls")
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("SIP TLS listener %q: %v", addr, err)
	}

	// Plain SIP to the TLS port: no SIP answer, no session.
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(raw, "OPTIONS sip:srs@%s SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-plain\r\n"+
		"From: <sip:src@127.0.0.1>;tag=1\r\nTo: <sip:srs@%s>\r\nCall-ID: plain@src\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", addr, addr)
	raw.SetReadDeadline(time.Now().Add(3 * time.Second))
	b := make([]byte, 512)
	if n, _ := raw.Read(b); strings.Contains(string(b[:n]), "SIP/2.0") {
		t.Fatalf("plain SIP on the TLS port was answered: %q", b[:n])
	}
	raw.Close()

	// TLS 1.1: refused at the handshake.
	old, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
	if err == nil {
		old.Close()
		t.Fatal("TLS 1.1 negotiated with the SIP listener")
	}

	// The recording over TLS, trusting only the operator's CA.
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("src-tls"), sipgo.WithUserAgenTLSConfig(&tls.Config{RootCAs: ca.Pool, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var p int
	fmt.Sscan(port, &p)
	uri := sip.Uri{Scheme: "sip", User: "srs", Host: host, Port: p, UriParams: sip.HeaderParams{}}
	uri.UriParams.Add("transport", "tls")
	meta, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "testdata", "siprec", "metadata-basic.xml"))
	if err != nil {
		t.Fatal(err)
	}
	sdp := "v=0\r\no=src 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 7000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=label:1\r\na=sendonly\r\n" +
		"m=audio 7002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=label:2\r\na=sendonly\r\n"
	body := "--b\r\nContent-Type: application/sdp\r\n\r\n" + sdp + "\r\n--b\r\nContent-Type: application/rs-metadata+xml\r\n\r\n" +
		string(meta) + "\r\n--b--\r\n"

	callID := sip.CallIDHeader(fmt.Sprintf("tls-%d@src", time.Now().UnixNano()))
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "src", Host: "127.0.0.1"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	cseq := uint32(1)
	request := func(m sip.RequestMethod, to *sip.ToHeader, ct, body string) *sip.Request {
		req := sip.NewRequest(m, uri)
		req.AppendHeader(&callID)
		req.AppendHeader(sip.HeaderClone(from))
		if to == nil {
			to = &sip.ToHeader{Address: uri}
		}
		req.AppendHeader(sip.HeaderClone(to))
		req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: m})
		cseq++
		req.AppendHeader(sip.NewHeader("Contact", "<sip:src@127.0.0.1;transport=tls>;+sip.src"))
		if ct != "" {
			req.AppendHeader(sip.NewHeader("Content-Type", ct))
			req.SetBody([]byte(body))
		}
		return req
	}
	do := func(req *sip.Request) *sip.Response {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := client.Do(ctx, req)
		if err != nil {
			t.Fatalf("%s over TLS: %v", req.Method, err)
		}
		return res
	}
	invite := request(sip.INVITE, nil, "multipart/mixed;boundary=b", body)
	invite.AppendHeader(sip.NewHeader("Require", "siprec"))
	res := do(invite)
	if res.StatusCode != 200 {
		t.Fatalf("INVITE over TLS: %d %v", res.StatusCode, res.GetHeader("Reason"))
	}
	to := sip.HeaderClone(res.To()).(*sip.ToHeader)
	ack := request(sip.ACK, to, "", "")
	ack.CSeq().SeqNo = invite.CSeq().SeqNo
	if err := client.WriteRequest(ack); err != nil {
		t.Fatal(err)
	}
	ss := tg.Media().Sessions()
	if len(ss) != 1 || len(ss[0].Tracks) != 2 || ss[0].Request.CallID != "call-7f3a" {
		t.Fatalf("sessions over TLS: %d %+v", len(ss), ss)
	}
	sess := ss[0]
	if res := do(request(sip.BYE, to, "", "")); res.StatusCode != 200 {
		t.Fatalf("BYE over TLS: %d", res.StatusCode)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(tg.Media().Sessions()) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if sum := sess.Summary(); sum.Status != "COMPLETE" || sum.EndReason != "siprec-bye" {
		t.Fatalf("summary %+v", sum)
	}

	// The same over SDES-SRTP: RTP/SAVP lines with the SRC's keys, which
	// TLS keeps from the path. The answer keys its own direction; the
	// media is recorded decrypted.
	keys := [2]srtp.Crypto{}
	for i := range keys {
		if keys[i], err = srtp.Generate(1, srtp.AESCM128SHA1_80); err != nil {
			t.Fatal(err)
		}
	}
	sdesSDP := strings.ReplaceAll(sdp, "RTP/AVP", "RTP/SAVP")
	sdesSDP = strings.Replace(sdesSDP, "a=label:1\r\n", "a=label:1\r\na=crypto:"+keys[0].Attribute()+"\r\n", 1)
	sdesSDP = strings.Replace(sdesSDP, "a=label:2\r\n", "a=label:2\r\na=crypto:"+keys[1].Attribute()+"\r\n", 1)
	callID = sip.CallIDHeader(fmt.Sprintf("tls-sdes-%d@src", time.Now().UnixNano()))
	from.Params.Add("tag", sip.GenerateTagN(8))
	invite = request(sip.INVITE, nil, "multipart/mixed;boundary=b", strings.Replace(body, sdp, sdesSDP, 1))
	invite.AppendHeader(sip.NewHeader("Require", "siprec"))
	res = do(invite)
	if res.StatusCode != 200 || strings.Count(string(res.Body()), "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") != 2 ||
		strings.Contains(string(res.Body()), keys[0].Attribute()) {
		t.Fatalf("SDES INVITE over TLS: %d %v\n%s", res.StatusCode, res.GetHeader("Reason"), res.Body())
	}
	to = sip.HeaderClone(res.To()).(*sip.ToHeader)
	ack = request(sip.ACK, to, "", "")
	ack.CSeq().SeqNo = invite.CSeq().SeqNo
	if err := client.WriteRequest(ack); err != nil {
		t.Fatal(err)
	}
	ss = tg.Media().Sessions()
	if len(ss) != 1 {
		t.Fatalf("%d sessions", len(ss))
	}
	sess = ss[0]
	for i, a := range sess.Addrs() {
		tx, err := pion.CreateContext(keys[i].Key[:16], keys[i].Key[16:], pion.ProtectionProfileAes128CmHmacSha1_80)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := net.Dial("udp", a.RTP)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		freq := []float64{pcapCallerHz, pcapAgentHz}[i]
		for n := range 100 {
			p, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(n), Timestamp: uint32(n * 160), SSRC: uint32(0x5000 + i)},
				Payload: gatewaytest.Tone(freq, n)}).Marshal()
			b, err := tx.EncryptRTP(nil, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			conn.Write(b)
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if res := do(request(sip.BYE, to, "", "")); res.StatusCode != 200 {
		t.Fatalf("BYE: %d", res.StatusCode)
	}
	for deadline := time.Now().Add(10 * time.Second); len(tg.Media().Sessions()) > 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if sum := sess.Summary(); sum.Status != "COMPLETE" || sum.Records != 200 || sum.Dropped[media.DropAuth] != 0 {
		t.Fatalf("SDES call summary %+v", sum)
	}
	wav, _ := tg.ExportTrack(sess.RecordingID, playback.FormatWAVStereo, "")
	w := gatewaytest.ParseWAV(t, wav)
	if l, r := w.Samples[0], w.Samples[1]; len(l) < 15000 || goertzel(l, pcapCallerHz) < 10*goertzel(l, pcapAgentHz) ||
		goertzel(r, pcapAgentHz) < 10*goertzel(r, pcapCallerHz) {
		t.Fatalf("SDES recording does not carry the caller's tone left and the agent's right (%d samples)", len(l))
	}
}
