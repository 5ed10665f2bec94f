package httpx

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
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

// StaticToken accepts the one bearer token token (TokenEqual) and grants
// the scope asked as principal id. An empty token refuses everything.
func StaticToken(id, token string) Authorizer {
	return AuthorizerFunc(func(r *http.Request, scope string) (Principal, error) {
		got, err := BearerToken(r)
		if err != nil {
			return Principal{}, err
		}
		if !TokenEqual(got, token) {
			return Principal{}, fmt.Errorf("%w: token refused", ErrUnauthenticated)
		}
		return Principal{ID: id, Scopes: []string{scope}}, nil
	})
}

// TokenEqual reports whether got is the static token want, in the same
// time whatever got is: both are hashed first, so not even the length of
// want leaks. An empty want equals nothing.
func TokenEqual(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1 && want != ""
}

// AuthError is the refusal for an Authorizer's error: 403 forbidden
// naming scope for ErrForbidden, otherwise 401 unauthenticated. It sets
// the RFC 6750 WWW-Authenticate challenge on w; a request that presented
// a token is told it was refused (error="invalid_token").
func AuthError(w http.ResponseWriter, scope string, err error) *Error {
	const realm = `Bearer realm="mediaseal"`
	if errors.Is(err, ErrForbidden) {
		w.Header().Set("WWW-Authenticate", realm+`, error="insufficient_scope", scope="`+scope+`"`)
		return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Scope: scope,
			Message: "this endpoint needs scope " + scope + ": " + err.Error()}
	}
	if errors.Is(err, ErrNoToken) {
		w.Header().Set("WWW-Authenticate", realm)
	} else {
		w.Header().Set("WWW-Authenticate", realm+`, error="invalid_token"`)
	}
	return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: err.Error()}
}

// Authorize asks a for scope. On a refusal it writes the error response
// and returns false; otherwise it returns r with the principal in its
// context (PrincipalFrom).
func Authorize(w http.ResponseWriter, r *http.Request, a Authorizer, scope string) (*http.Request, bool) {
	p, err := a.Authorize(r, scope)
	if err != nil {
		WriteError(w, AuthError(w, scope, err))
		return r, false
	}
	return r.WithContext(ContextWithPrincipal(r.Context(), p)), true
}

// Scoped is RequireScope as a wrapper for handler funcs, for a service
// that mounts its own routes behind the authorization it is handed.
func Scoped(a Authorizer, scope string) func(http.HandlerFunc) http.HandlerFunc {
	return func(h http.HandlerFunc) http.HandlerFunc { return RequireScope(a, scope, h).ServeHTTP }
}

// RequireScope runs h only for requests a authorizes for scope.
func RequireScope(a Authorizer, scope string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r, ok := Authorize(w, r, a, scope); ok {
			h.ServeHTTP(w, r)
		}
	})
}

type principalKey struct{}

// ContextWithPrincipal returns ctx carrying p.
func ContextWithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal the authorization step stored in
// the request context.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// TokenCheck authorizes each request's bearer token with check: an error
// wrapping ErrForbidden is a 403, any other a 401. The principal is
// "bearer", granted the scope asked.
func TokenCheck(check func(token, scope string) error) Authorizer {
	return AuthorizerFunc(func(r *http.Request, scope string) (Principal, error) {
		tok, err := BearerToken(r)
		if err != nil {
			return Principal{}, err
		}
		if err := check(tok, scope); err != nil {
			if !errors.Is(err, ErrUnauthenticated) && !errors.Is(err, ErrForbidden) {
				err = fmt.Errorf("%w: token refused: %v", ErrUnauthenticated, err)
			}
			return Principal{}, err
		}
		return Principal{ID: "bearer", Scopes: []string{scope}}, nil
	})
}
