package whip

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseMeta(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		hdr         map[string]string
		want        Meta
		err         string
	}{
		{name: "query", query: "callId=c1&queueId=q&direction=inbound&callerId=%2B44&agentId=a7",
			want: Meta{CallID: "c1", QueueID: "q", Direction: "INBOUND", CallerID: "+44", AgentID: "a7", AudioLabel: "caller"}},
		{name: "headers", hdr: map[string]string{"X-Mediaseal-Call-Id": "c2", "X-Mediaseal-Direction": "OUTBOUND", "X-Mediaseal-Audio-Label": "agent"},
			want: Meta{CallID: "c2", Direction: "OUTBOUND", AudioLabel: "agent"}},
		{name: "both agree", query: "callId=c3", hdr: map[string]string{"X-Mediaseal-Call-Id": "c3"}, want: Meta{CallID: "c3", AudioLabel: "caller"}},
		{name: "both disagree", query: "callId=c3", hdr: map[string]string{"X-Mediaseal-Call-Id": "c4"}, err: "disagree"},
		{name: "repeated", query: "queueId=a&queueId=b", err: "more than once"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/whip?"+tc.query, nil)
			for k, v := range tc.hdr {
				r.Header.Set(k, v)
			}
			got, err := ParseMeta(r)
			if tc.err != "" {
				if !errors.Is(err, ErrBadMeta) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want ErrBadMeta mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v %v, want %+v", got, err, tc.want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"negative rate", Config{PostRate: -1}},
		{"half port range", Config{UDPPortMin: 5000}},
		{"bad NAT IP", Config{NAT1To1IPs: []string{"host"}}},
		{"ICE server without URL", Config{ICEServers: []ICEServer{{}}}},
		{"ICE server scheme", Config{ICEServers: []ICEServer{{URLs: []string{"http://x"}}}}},
		{"quote in credential", Config{ICEServers: []ICEServer{{URLs: []string{"turn:x"}, Credential: `a"b`}}}},
	} {
		if err := tc.cfg.setDefaults(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", tc.name, err)
		}
	}
}
