package gateway

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/media/sessionapi"
)

// TokenChecker authorizes a bearer token for a scope. An error wrapping
// httpx.ErrForbidden is a 403, any other a 401.
type TokenChecker func(token, scope string) error

// ScopeIngest is the scope media servers need for the session API and WHIP.
const ScopeIngest = sessionapi.ScopeIngest

// ScopeMetrics is the scope a Prometheus scraper needs for /metrics.
const ScopeMetrics = "metrics:read"

// staticToken accepts exactly one token (the bootstrap ingest token),
// compared in constant time.
func staticToken(want string) TokenChecker {
	return func(token, _ string) error {
		if !httpx.TokenEqual(token, want) {
			return fmt.Errorf("%w: token refused", httpx.ErrUnauthenticated)
		}
		return nil
	}
}

// authorizer authorizes the gateway's own endpoints (session API, WHIP,
// metrics, audit heads) with g.checkToken, read at each request: the
// ceremony's service tokens join it when the ceremony starts.
func (g *Gateway) authorizer() httpx.Authorizer {
	return httpx.AuthorizerFunc(func(r *http.Request, scope string) (httpx.Principal, error) {
		tok, err := httpx.BearerToken(r)
		if err != nil {
			return httpx.Principal{}, err
		}
		if err := g.checkToken(tok, scope); err != nil {
			if !errors.Is(err, httpx.ErrUnauthenticated) && !errors.Is(err, httpx.ErrForbidden) {
				err = fmt.Errorf("%w: token refused: %v", httpx.ErrUnauthenticated, err)
			}
			return httpx.Principal{}, err
		}
		return httpx.Principal{ID: "bearer", Scopes: []string{scope}}, nil
	})
}

// requireScope wraps h with bearer-token authorization for scope.
func (g *Gateway) requireScope(scope string, h http.HandlerFunc) http.HandlerFunc {
	return httpx.RequireScope(g.authorizer(), scope, h).ServeHTTP
}

// sessionRoutes mounts the session API (media/sessionapi).
func (g *Gateway) sessionRoutes(mux *http.ServeMux) {
	sessionapi.New(sessionapi.Deps{Media: g.media, Authorizer: g.authorizer(), MaxBodyBytes: int64(g.cfg.API.MaxBodyBytes),
		Logger: g.log, Refused: func(reason string) { g.metrics.sessionsRefused.WithLabelValues(reason).Inc() }}).Register(mux)
}

func writeJSON(w http.ResponseWriter, code int, v any) { httpx.WriteJSON(w, code, v) }

// writeError writes the one error body (httpx.Error) for a refusal of the
// gateway's own endpoints; detail, when given, ends the message.
func writeError(w http.ResponseWriter, status int, msg string, detail error) {
	if detail != nil {
		msg += ": " + detail.Error()
	}
	code := httpx.CodeInternal
	switch status {
	case http.StatusNotFound:
		code = httpx.CodeNotFound
	case http.StatusServiceUnavailable:
		code = httpx.CodeUnavailable
	}
	httpx.WriteJSON(w, status, &httpx.Error{Status: status, Code: code, Message: msg})
}
