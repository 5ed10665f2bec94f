package api

import (
	"context"

	"github.com/mediaseal/mediaseal/httpx"
)

// Scopes the routes of this package need.
const (
	ScopePolicyRead     = "recording_policy:read"
	ScopePolicyWrite    = "recording_policy:write"
	ScopeKeyRead        = "key_management:read"
	ScopeKeyWrite       = "key_management:write"
	ScopeRecordingsRead = "recording:read"
	ScopeLegalHold      = "legal_hold"
)

// Principal is who made a request.
type Principal = httpx.Principal

// Authorizer decides whether a request may use a route needing scope. It
// returns the principal, or an error wrapping ErrUnauthenticated (401) or
// ErrForbidden (403).
type Authorizer = httpx.Authorizer

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc = httpx.AuthorizerFunc

// BootstrapToken accepts "Authorization: Bearer <token>" with the given
// admin token (compared in constant time) and grants every scope. It is
// the interim authorizer until service tokens exist; an empty token
// refuses everything.
func BootstrapToken(token string) Authorizer {
	return httpx.StaticToken(AdminPrincipalID, token)
}

// PrincipalFrom returns the principal the authorization layer stored in
// the request context.
func PrincipalFrom(ctx context.Context) (Principal, bool) { return httpx.PrincipalFrom(ctx) }
