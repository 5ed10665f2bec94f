package siprec

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestRequestWithoutMandatoryHeader: a request lacking From, To or
// Call-ID is answered 400 naming the header, and the server keeps
// answering. Before, an INVITE without To dereferenced nil in onInvite
// and ended the process (FuzzSIPRequest's first find).
func TestRequestWithoutMandatoryHeader(t *testing.T) {
	srs := startSRS(t, nil)
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dst := net.UDPAddrFromAddrPort(netip.MustParseAddrPort(srs.Addr("udp")))
	via := conn.LocalAddr().String()
	answer := func(msg []byte, callID string) string {
		t.Helper()
		if _, err := conn.WriteToUDP(msg, dst); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 65535)
		for {
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				t.Fatalf("no answer to % .60q: %v", msg, err)
			}
			if r := buf[:n]; bytes.Contains(r, []byte(callID)) && !bytes.HasPrefix(r, []byte("SIP/2.0 100 ")) {
				return string(r)
			}
		}
	}
	for _, method := range []string{"INVITE", "BYE", "UPDATE", "OPTIONS", "CANCEL"} {
		for _, drop := range []string{"From", "To", "Call-ID"} {
			callID := fmt.Sprintf("no-%s-%s", strings.ToLower(drop), strings.ToLower(method))
			var kept []string
			for _, line := range strings.Split(string(rawRequest(method, via, callID, 1, []string{"Require: siprec"}, "")), "\r\n") {
				if !strings.HasPrefix(line, drop+":") {
					kept = append(kept, line)
				}
			}
			msg := []byte(strings.Join(kept, "\r\n"))
			if drop == "Call-ID" {
				// The answer cannot echo a Call-ID it never got: find it
				// by the branch, which names the call.
				callID = "z9hG4bK-" + callID
			}
			if got := answer(msg, callID); !strings.HasPrefix(got, "SIP/2.0 400 ") || !strings.Contains(got, "no "+drop+" header") {
				t.Fatalf("%s without %s: %.120q", method, drop, got)
			}
		}
	}
	if got := answer(rawRequest("OPTIONS", via, "still-up", 1, nil, ""), "still-up"); !strings.HasPrefix(got, "SIP/2.0 200 ") {
		t.Fatalf("OPTIONS after the malformed requests: %.80q", got)
	}
}
