package gatewaytest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// WhipRequest sends a WHIP request with the gateway's token.
func (tg *Gateway) WhipRequest(method, path, ctype, body string, hdr map[string]string) *http.Response {
	tg.T.Helper()
	req, err := http.NewRequest(method, tg.URL+path, strings.NewReader(body))
	if err != nil {
		tg.T.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if _, ok := hdr["Authorization"]; !ok {
		req.Header.Set("Authorization", "Bearer "+tg.Token)
	}
	for k, v := range hdr {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tg.T.Fatal(err)
	}
	return resp
}

// ReadAll reads and closes a response body.
func ReadAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
