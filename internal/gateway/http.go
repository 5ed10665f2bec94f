package gateway

import (
	"context"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mediaseal/mediaseal/console"
	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/media/sessionapi"
)

// scopeMetrics is the scope a Prometheus scraper needs for /metrics.
const scopeMetrics = "metrics:read"

// handler is the HTTP API: session API, control plane, WHIP, health,
// metrics. It registers the request counter: Run calls it once.
func (g *Gateway) handler() http.Handler {
	mux, auth := httpx.NewMux(), g.cp.Authorizer(g.ingestToken)
	sessionapi.New(sessionapi.Deps{Media: g.media, Authorizer: auth, MaxBodyBytes: int64(g.cfg.API.MaxBodyBytes),
		Logger: g.log, Refused: func(reason string) { g.metrics.Refused(reason).Inc() }}).Register(mux)
	g.cp.Routes(mux)
	g.cp.AuditHeadRoutes(mux, auth)
	g.ingestRoutes(mux, auth)
	httpx.HealthRoutes(mux, g.readyChecks()...)
	mux.Handle("/api/v2/", g.cp.Handler())
	mux.Handle("GET "+console.Prefix, console.Handler()) // static files; it acts only through /api/v2
	// Metrics carry no secrets but do reveal call volumes: authenticated.
	mux.Handle("GET /metrics", httpx.RequireScope(auth, scopeMetrics, promhttp.HandlerFor(g.reg, promhttp.HandlerOpts{})))
	g.routes = mux.Patterns()
	return httpx.CountRequestsOn(g.reg, mux)
}

// Routes are the API's patterns once Ready ("/api/v2/" stands for api.Routes).
func (g *Gateway) Routes() []string { return g.routes }

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
