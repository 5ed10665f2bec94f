package twilio

import (
	"crypto/tls"
	"net/http/httptest"
	"net/url"
	"testing"
)

// The expected values were computed with Python's hmac module, an
// implementation independent of this one.
func TestSignatureVectors(t *testing.T) {
	params := url.Values{"To": {"+18005551212"}, "CallSid": {"CA1234567890ABCDE"}, "Digits": {"1234"},
		"From": {"+14158675309"}, "Caller": {"+14158675309"}}
	if got := Signature([]byte("12345"), "https://example.com/myapp?foo=1&bar=2", params); got != "V46CDrhPu3a6q+aUFH2wGmTiSnw=" {
		t.Errorf("form POST signature %s", got)
	}
	if got := Signature([]byte("12345"), "wss://gw.example.com/twilio/v1", nil); got != "BG/9YD/na1qNEJ1UGwhyHs/JZew=" {
		t.Errorf("upgrade signature %s", got)
	}
}

func TestVerifySignatureRefusesVariants(t *testing.T) {
	token := []byte("12345")
	const u = "wss://gw.example.com/twilio/v1"
	good := Signature(token, u, nil)
	cases := []struct {
		name   string
		sigs   []string
		token  []byte
		signed string
		want   bool
	}{
		{"good", []string{good}, token, u, true},
		{"none", nil, token, u, false},
		{"two headers", []string{good, good}, token, u, false},
		{"other url", []string{good}, token, u + "?queueId=x", false},
		{"other token", []string{good}, []byte("12346"), u, false},
		{"empty token", []string{Signature(nil, u, nil)}, nil, u, false},
		{"not base64", []string{"!!!"}, token, u, false},
		{"truncated", []string{good[:20]}, token, u, false},
		{"long", []string{good + good + good}, token, u, false},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/twilio/v1", nil)
		for _, s := range c.sigs {
			r.Header.Add(SignatureHeader, s)
		}
		if got := VerifySignature(r, c.token, c.signed); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestRequestURL(t *testing.T) {
	r := httptest.NewRequest("GET", "http://gw.example.com:8443/twilio/v1?a=1", nil)
	if got := requestURL(r, ""); got != "ws://gw.example.com:8443/twilio/v1?a=1" {
		t.Errorf("plain: %s", got)
	}
	r.TLS = &tls.ConnectionState{}
	if got := requestURL(r, ""); got != "wss://gw.example.com:8443/twilio/v1?a=1" {
		t.Errorf("tls: %s", got)
	}
	if got := requestURL(r, "wss://public.example.com/rec/twilio"); got != "wss://public.example.com/rec/twilio?a=1" {
		t.Errorf("public: %s", got)
	}
}
