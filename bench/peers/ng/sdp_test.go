package ng

import (
	"errors"
	"net/netip"
	"testing"
)

func TestMediaAddrs(t *testing.T) {
	session := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	tests := []struct {
		name string
		sdp  string
		want []string
		err  error
	}{
		{"ours", AudioSDP(netip.MustParseAddrPort("127.0.0.1:4000"), 0, "PCMU", 20), []string{"127.0.0.1:4000"}, nil},
		{"ipv6", AudioSDP(netip.MustParseAddrPort("[::1]:4002"), 8, "PCMA", 20), []string{"[::1]:4002"}, nil},
		{"two sections, media-level c=", session + "m=audio 5000 RTP/AVP 0\r\nm=audio 5002 RTP/AVP 0\r\nc=IN IP4 127.0.0.2\r\n",
			[]string{"127.0.0.1:5000", "127.0.0.2:5002"}, nil},
		{"no media", session, nil, ErrNoMedia},
		{"rejected section", session + "m=audio 0 RTP/AVP 0\r\n", nil, ErrNoMedia},
		{"no connection", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n", nil, ErrNoMedia},
		{"garbage", "hello", nil, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MediaAddrs(tc.sdp)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i].String() != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}
