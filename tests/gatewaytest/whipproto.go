package gatewaytest

import (
	"net/http"
	"testing"
)

// WhipCase is one request and the status (and headers) it must get.
type WhipCase struct {
	Name, Method, Path, Ctype, Body string
	Hdr                             map[string]string
	Want                            int
	Check                           func(t *testing.T, resp *http.Response, body string)
}

// RunWHIPCases sends each case's request and checks its answer.
func (tg *Gateway) RunWHIPCases(t *testing.T, cases []WhipCase) {
	t.Helper()
	for _, c := range cases {
		resp := tg.WhipRequest(c.Method, c.Path, c.Ctype, c.Body, c.Hdr)
		body := ReadAll(t, resp)
		if resp.StatusCode != c.Want {
			t.Fatalf("%s: %s %s: got %d, want %d: %s", c.Name, c.Method, c.Path, resp.StatusCode, c.Want, body)
		}
		if c.Check != nil {
			c.Check(t, resp, body)
		}
	}
}
