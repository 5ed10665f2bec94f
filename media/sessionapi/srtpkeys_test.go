package sessionapi

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/media"
)

// SRTP keys cross only TLS or a loopback listener: asked over plain HTTP
// on any other address (the listener's, which the client cannot choose)
// the request is refused naming the track, before a key is made.
func TestSRTPKeysNeedTLSOrLoopback(t *testing.T) {
	srtpReq := media.Request{Tracks: []media.TrackSpec{{Label: "a"}, {Label: "b", SRTP: &media.TrackSRTP{Generate: "AES_CM_128_HMAC_SHA1_80"}}}}
	plainReq := media.Request{Tracks: []media.TrackSpec{{Label: "a"}}}
	at := func(local string, tlsOn bool) *http.Request {
		r := httptest.NewRequest("POST", "/v1/sessions", nil)
		if local != "" {
			r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, net.TCPAddrFromAddrPort(netipAP(t, local))))
		}
		if tlsOn {
			r.TLS = &tls.ConnectionState{}
		} else {
			r.TLS = nil
		}
		return r
	}
	for _, tc := range []struct {
		name    string
		r       *http.Request
		req     media.Request
		refused bool
	}{
		{"loopback v4", at("127.0.0.1:8080", false), srtpReq, false},
		{"loopback v6", at("[::1]:8080", false), srtpReq, false},
		{"plain on a public address", at("192.0.2.10:8080", false), srtpReq, true},
		{"plain on all interfaces, reached by a LAN address", at("10.1.2.3:8080", false), srtpReq, true},
		{"plain, listener unknown", at("", false), srtpReq, true},
		{"TLS on a public address", at("192.0.2.10:8443", true), srtpReq, false},
		{"no SRTP asked", at("192.0.2.10:8080", false), plainReq, false},
	} {
		err := keysMayTravel(tc.r, tc.req)
		var he *httpx.Error
		switch {
		case tc.refused && (!errors.As(err, &he) || he.Code != CodeTLSRequired || he.Field != "tracks[1].srtp" || he.Status != 400):
			t.Errorf("%s: %v, want 400 %s on tracks[1].srtp", tc.name, err, CodeTLSRequired)
		case !tc.refused && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		}
	}
}

func netipAP(t *testing.T, s string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}
