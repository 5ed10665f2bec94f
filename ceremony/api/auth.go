package api

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
)

// Scopes the routes of this package need.
const (
	ScopePolicyRead     = "recording_policy:read"
	ScopePolicyWrite    = "recording_policy:write"
	ScopeKeyRead        = "key_management:read"
	ScopeKeyWrite       = "key_management:write"
	ScopeRecordingsRead = "recording:read"
)

// Principal is who made a request.
type Principal struct {
	ID     string
	Scopes []string
}

// Authorizer decides whether a request may use a route needing scope. It
// returns the principal, or an error wrapping ErrUnauthenticated (401) or
// ErrForbidden (403).
type Authorizer interface {
	Authorize(r *http.Request, scope string) (Principal, error)
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(r *http.Request, scope string) (Principal, error)

// Authorize calls f.
func (f AuthorizerFunc) Authorize(r *http.Request, scope string) (Principal, error) {
	return f(r, scope)
}

// BootstrapToken accepts "Authorization: Bearer <token>" with the given
// admin token (compared in constant time) and grants every scope. It is
// the interim authorizer until service tokens exist; an empty token
// refuses everything.
func BootstrapToken(token string) Authorizer {
	return AuthorizerFunc(func(r *http.Request, scope string) (Principal, error) {
		got, ok := BearerToken(r)
		if !ok {
			return Principal{}, fmt.Errorf("%w: missing bearer token", ErrUnauthenticated)
		}
		if token == "" || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			return Principal{}, fmt.Errorf("%w: invalid token", ErrUnauthenticated)
		}
		return Principal{ID: AdminPrincipalID, Scopes: []string{scope}}, nil
	})
}

// BearerToken returns the token of an "Authorization: Bearer" header.
func BearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

type principalKey struct{}

func contextWithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal the authorization layer stored in
// the request context.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
