package twilio

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Twilio's request signature is HMAC-SHA1; HMAC does not rest on SHA-1's collision resistance.
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// SignatureHeader carries Twilio's request signature.
const SignatureHeader = "X-Twilio-Signature"

// Signature computes Twilio's request signature: base64 of HMAC-SHA1,
// keyed with the account's auth token, over the full URL followed, for a
// form POST, by each parameter's name and value sorted by name. For the
// WebSocket upgrade of a stream params is empty: the URL alone is signed.
func Signature(authToken []byte, fullURL string, params url.Values) string {
	mac := hmac.New(sha1.New, authToken)
	mac.Write([]byte(fullURL))
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			mac.Write([]byte(k))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// VerifySignature reports whether r carries exactly one X-Twilio-Signature
// that is the signature of fullURL with authToken. The comparison is
// constant-time (hmac.Equal over the decoded MACs); an empty token
// verifies nothing.
func VerifySignature(r *http.Request, authToken []byte, fullURL string) bool {
	hs := r.Header.Values(SignatureHeader)
	if len(authToken) == 0 || len(hs) != 1 || len(hs[0]) > 64 {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(hs[0]))
	if err != nil {
		return false
	}
	want, _ := base64.StdEncoding.DecodeString(Signature(authToken, fullURL, nil))
	return hmac.Equal(got, want)
}

// requestURL is the URL Twilio requested, as it signed it: public (the
// configured wss://host/path) with the request's query, or, when none is
// configured, the scheme the listener serves, the Host header and the
// request URI.
func requestURL(r *http.Request, public string) string {
	if public != "" {
		if r.URL.RawQuery != "" {
			return public + "?" + r.URL.RawQuery
		}
		return public
	}
	scheme := "ws"
	if r.TLS != nil {
		scheme = "wss"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}
