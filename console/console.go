package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Prefix is where the gateway mounts the console.
const Prefix = "/console/"

//go:embed static
var static embed.FS

// CSP is the Content-Security-Policy of every console response: scripts
// and styles only from the gateway's own files (no inline code, no eval),
// API calls only to the gateway, audio only from the blob the page
// fetched with its token, no framing, no forms posted anywhere, no base
// URL rewriting.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"media-src blob:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// contentTypes are the only files served, by extension: an embedded file
// of another kind is a 404 rather than a guess.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

// Handler serves the console under [Prefix] ("/console/" is index.html).
// Only GET and HEAD are answered; a path that is not one of the embedded
// files is a 404.
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic("console: embedded files missing: " + err.Error()) // a build without static/ is broken
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SecurityHeaders(w.Header())
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, Prefix)
		if name == "" {
			name = "index.html"
		}
		ct, ok := contentTypes[path.Ext(name)]
		if !ok || name != path.Clean(name) || strings.Contains(name, "/") {
			http.NotFound(w, r)
			return
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", ct)
		// The files change with the binary: revalidate rather than run an
		// old script against a new API.
		w.Header().Set("Cache-Control", "no-cache")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(b)
	})
}

// SecurityHeaders sets the console's security headers on h.
func SecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Frame-Options", "DENY") // for browsers that predate frame-ancestors
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}
