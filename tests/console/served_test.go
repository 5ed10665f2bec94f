package console_test

import (
	"net/http"
	"testing"

	"github.com/mediaseal/mediaseal/console"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestConsoleServed: the running gateway serves the console with its
// security headers and no cookie, redirects /console to it, and the
// audit verification it shows is the auditor's alone.
func TestConsoleServed(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	// The console's files are not part of the API contract: fetched with
	// a transport of their own, as a browser would, not the test client's.
	plain := &http.Client{Transport: &http.Transport{},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"/console/", "/console/console.js", "/console/console.css"} {
		resp, err := plain.Get(tg.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("Content-Security-Policy") != console.CSP || h.Get("Referrer-Policy") != "no-referrer" ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Set-Cookie") != "" {
			t.Fatalf("%s: %d %v", p, resp.StatusCode, h)
		}
	}
	resp, err := plain.Get(tg.URL + "/console")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if (resp.StatusCode != http.StatusMovedPermanently && resp.StatusCode != http.StatusTemporaryRedirect) || resp.Header.Get("Location") != "/console/" {
		t.Fatalf("/console: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	if code, _, _ := gatewaytest.RawCall(t, "GET", tg.URL+"/api/v2/audit/verify", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("verify without a token: %d", code)
	}
	for _, id := range []string{"playback-requester-1", "key-admin-1", "policy-admin-1"} {
		if code, _, _ := tg.Principal(id).Call("GET", "/api/v2/audit/verify", nil); code != http.StatusForbidden {
			t.Fatalf("verify as %s: %d", id, code)
		}
	}
	m := tg.Principal("auditor-1").Must(200, "GET", "/api/v2/audit/verify", nil)
	if m["intact"] != true || m["keys"] != "database" || m["entries"].(float64) < 1 || len(m["headHash"].(string)) != 64 {
		t.Fatalf("verify: %v", m)
	}
}
