package siprec

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

// rawRequest writes a SIP request as an SRC would send it over UDP from
// via (host:port), with a Content-Length that matches body.
func rawRequest(method, via, callID string, cseq int, hdrs []string, body string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s sip:srs@127.0.0.1 SIP/2.0\r\n", method)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s-%d;rport\r\n", via, callID, cseq)
	b.WriteString("Max-Forwards: 70\r\nFrom: <sip:src@127.0.0.1>;tag=src1\r\nTo: <sip:srs@127.0.0.1>\r\n")
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:src@127.0.0.1>;+sip.src\r\n", callID, cseq, method)
	for _, h := range hdrs {
		b.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return []byte(b.String())
}

// FuzzSIPRequest sends arbitrary datagrams to the UDP listener of a
// running SRS — sipgo's parser, then the recording server's handlers —
// and after each one asks it OPTIONS from the same socket: a message must
// neither crash the server (a handler panic ends the process) nor leave it
// unable to answer.
func FuzzSIPRequest(f *testing.F) {
	// zaptest would log through f from the server's goroutines.
	srs := startSRS(f, func(c *Config) { c.Logger = zap.NewNop() })
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { conn.Close() })
	dst := net.UDPAddrFromAddrPort(netip.MustParseAddrPort(srs.Addr("udp")))
	via := conn.LocalAddr().String()
	meta := string(sample(f, "metadata-basic.xml"))
	body := multipartBody("xyz", [2]string{typeSDP, testSDP}, [2]string{typeMetadata, meta})
	siprec := []string{"Require: siprec", "Content-Type: multipart/mixed;boundary=xyz"}
	for _, seed := range [][]byte{
		rawRequest("INVITE", via, "seed-invite", 1, siprec, body),
		rawRequest("INVITE", via, "seed-plain", 1, []string{"Content-Type: application/sdp"}, testSDP),
		rawRequest("BYE", via, "seed-invite", 2, nil, ""),
		rawRequest("CANCEL", via, "seed-cancel", 1, nil, ""),
		rawRequest("UPDATE", via, "seed-invite", 3, siprec, body),
		rawRequest("OPTIONS", via, "seed-options", 1, nil, ""),
		rawRequest("INVITE", via, "seed-bad-length", 1, siprec, body)[:300],
		[]byte("INVITE sip:srs SIP/2.0\r\n\r\n"),
	} {
		f.Add(seed)
	}
	probe := 0
	buf := make([]byte, 65535)
	f.Fuzz(func(t *testing.T, msg []byte) {
		if _, err := conn.WriteToUDP(msg, dst); err != nil {
			return // too large for a datagram
		}
		probe++
		cid := fmt.Sprintf("probe-%d", probe)
		if _, err := conn.WriteToUDP(rawRequest("OPTIONS", via, cid, 1, nil, ""), dst); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			conn.SetReadDeadline(deadline)
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				t.Fatalf("no answer to OPTIONS after % x: %v", msg, err)
			}
			// Answers to the fuzzed message (and their retransmissions)
			// come to this socket too: wait for the probe's.
			if r := buf[:n]; bytes.Contains(r, []byte("Call-ID: "+cid+"\r\n")) {
				if !bytes.HasPrefix(r, []byte("SIP/2.0 200 ")) {
					t.Fatalf("OPTIONS after % x: %.80q", msg, r)
				}
				return
			}
		}
	})
}
