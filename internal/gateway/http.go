package gateway

import (
	"context"
	"net/http"
	"os"
	"strconv"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mediaseal/mediaseal/console"
	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/media/sessionapi"
)

// ScopeIngest is the scope media servers need for the session API and WHIP.
const ScopeIngest = sessionapi.ScopeIngest

// ScopeMetrics is the scope a Prometheus scraper needs for /metrics.
const ScopeMetrics = "metrics:read"

// Handler is the HTTP API: session API, control plane, WHIP, health,
// metrics.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	sessionapi.New(sessionapi.Deps{Media: g.media, Authorizer: g.authorizer(), MaxBodyBytes: int64(g.cfg.API.MaxBodyBytes),
		Logger: g.log, Refused: func(reason string) { g.metrics.Refused(reason).Inc() }}).Register(mux)
	g.cp.Routes(mux)
	g.cp.AuditHeadRoutes(mux, g.authorizer())
	g.whipRoutes(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", httpx.Ready(g.readyChecks()...))
	mux.Handle("/api/v2/", g.cp.Handler())
	mux.Handle("GET "+console.Prefix, console.Handler()) // static files; it acts only through /api/v2
	// Metrics carry no secrets but do reveal call volumes: authenticated.
	mux.Handle("GET /metrics", g.requireScope(ScopeMetrics, promhttp.HandlerFor(g.reg, promhttp.HandlerOpts{}).ServeHTTP))
	return httpx.CountRequests(mux, func(route string, code int) { g.apiRequests.WithLabelValues(route, strconv.Itoa(code)).Inc() })
}

// readyChecks are what /readyz answers for: the store, the object store,
// the platform key, the audit anchor, the spool and the index writer.
func (g *Gateway) readyChecks() []httpx.Check {
	return []httpx.Check{
		{Name: "store", Probe: httpx.ProbeErr(func(ctx context.Context) error { return g.index.DB().PingContext(ctx) })},
		{Name: "storage", Probe: httpx.ProbeErr(func(ctx context.Context) error { _, err := g.objects.List(ctx, "readyz-probe/"); return err })},
		{Name: "platformKey", Probe: func(ctx context.Context) (string, bool) { return g.providers.Usable(ctx, g.platformRef()) }},
		{Name: "auditAnchor", Probe: func(context.Context) (string, bool) { return g.cp.AnchorCheck() }},
		{Name: "spool", Probe: func(context.Context) (string, bool) { return g.spool.Ready() }},
		{Name: "index", Probe: func(context.Context) (string, bool) { return g.recordings.IndexCheck() }},
	}
}

// authorizer authorizes the gateway's own endpoints (session API, WHIP,
// metrics, audit heads): the bootstrap ingest token, compared in constant
// time, or a service token of the ceremony.
func (g *Gateway) authorizer() httpx.Authorizer {
	return httpx.TokenCheck(func(token, scope string) error {
		if httpx.TokenEqual(token, g.ingestToken) {
			return nil
		}
		return g.cp.CheckToken(token, scope)
	})
}

// requireScope wraps h with bearer-token authorization for scope.
func (g *Gateway) requireScope(scope string, h http.HandlerFunc) http.HandlerFunc {
	return httpx.RequireScope(g.authorizer(), scope, h).ServeHTTP
}

// listenAPI opens the API listener: TLS when api.tls is set, plain TCP
// otherwise (validated as loopback or an explicit api.insecurePlaintext).
func (g *Gateway) listenAPI() (err error) {
	var files *httpx.TLSFiles
	if t := g.cfg.API.TLS; t.Enabled() {
		files = &httpx.TLSFiles{CertFile: t.CertFile, KeyFile: t.KeyFile, ClientCAFile: t.ClientCAFile}
	}
	g.ln, err = httpx.Listen(g.cfg.API.Addr, files, g.log)
	return err
}

// ReloadTLS reads the API certificate and key again, once the API listens.
func (g *Gateway) ReloadTLS() error { <-g.ready; return g.ln.Reload() }

// ReloadTLSOn reloads the API certificate on every value from sig (serve
// passes SIGHUP) until ctx is done.
func (g *Gateway) ReloadTLSOn(ctx context.Context, sig <-chan os.Signal) {
	select {
	case <-g.ready:
		g.ln.ReloadOn(ctx, sig)
	case <-ctx.Done():
	}
}
