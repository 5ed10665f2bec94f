package httpx

import (
	"context"
	"net/http"
	"time"
)

// Check is one named readiness check: what it reports, and whether it
// passes.
type Check struct {
	Name  string
	Probe func(ctx context.Context) (status string, ok bool)
}

// ProbeErr adapts a check that fails with an error: "ok", or the error.
func ProbeErr(f func(ctx context.Context) error) func(context.Context) (string, bool) {
	return func(ctx context.Context) (string, bool) {
		if err := f(ctx); err != nil {
			return err.Error(), false
		}
		return "ok", true
	}
}

// Ready answers a readiness probe: every check, in order, within two
// seconds, as a JSON object of name → status; 200 when all pass, else 503.
func Ready(checks ...Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		out := make(map[string]string, len(checks))
		code := http.StatusOK
		for _, c := range checks {
			status, ok := c.Probe(ctx)
			out[c.Name] = status
			if !ok {
				code = http.StatusServiceUnavailable
			}
		}
		WriteJSON(w, code, out)
	}
}

// HealthRoutes mounts GET /healthz (the process answers) and GET /readyz
// (every check passes).
func HealthRoutes(mux Router, checks ...Check) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", Ready(checks...))
}
