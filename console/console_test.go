package console

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, method, path string) *http.Response {
	t.Helper()
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, httptest.NewRequest(method, path, nil))
	return w.Result()
}

// TestHeaders: every answer, errors included, carries the security
// headers, and the CSP allows no inline code, no eval and no framing.
func TestHeaders(t *testing.T) {
	for _, p := range []string{"/console/", "/console/console.js", "/console/console.css", "/console/nope.html", "/console/../go.mod"} {
		resp := get(t, "GET", p)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP allows unsafe code: %q", p, csp)
		}
		if h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", p, h)
		}
		if h.Get("Set-Cookie") != "" {
			t.Errorf("%s: sets a cookie", p)
		}
	}
}

func TestFiles(t *testing.T) {
	for p, ct := range map[string]string{"/console/": "text/html; charset=utf-8", "/console/index.html": "text/html; charset=utf-8",
		"/console/console.js": "text/javascript; charset=utf-8", "/console/console.css": "text/css; charset=utf-8"} {
		resp := get(t, "GET", p)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ct {
			t.Errorf("%s: %d %q", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	for _, p := range []string{"/console/missing.js", "/console/static/index.html", "/console/..%2fconsole.go", "/console/x/../index.html", "/console/console.go"} {
		if resp := get(t, "GET", p); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		if resp := get(t, m, "/console/"); resp.StatusCode != 405 {
			t.Errorf("%s: %d, want 405", m, resp.StatusCode)
		}
	}
	if resp := get(t, "HEAD", "/console/"); resp.StatusCode != 200 {
		t.Errorf("HEAD: %d", resp.StatusCode)
	}
}

// TestNoInlineCode: the page has no inline script, style or event handler
// (the CSP would block them, and their absence is what lets it), and the
// script never touches persistent storage or cookies.
func TestNoInlineCode(t *testing.T) {
	html, _ := io.ReadAll(get(t, "GET", "/console/").Body)
	for _, re := range []string{`<script(?:(?:\s+[a-z]+="[^"]*")*)\s*>[^<]`, `<script(?:\s+type="module")?\s*>`, `\sstyle=`, `<style`, `\son[a-z]+=`, `javascript:`} {
		if m := regexp.MustCompile(`(?i)` + re).Find(html); m != nil {
			t.Errorf("index.html has inline code: %q", m)
		}
	}
	js, _ := io.ReadAll(get(t, "GET", "/console/console.js").Body)
	for _, bad := range []string{"localStorage", "sessionStorage", "document.cookie", "innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "new Function"} {
		if strings.Contains(string(js), bad) {
			t.Errorf("console.js uses %s", bad)
		}
	}
}
