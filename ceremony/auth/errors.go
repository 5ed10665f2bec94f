package auth

import (
	"errors"

	"github.com/mediaseal/mediaseal/httpx"
)

// Errors of the package; they are wrapped with the value concerned.
var (
	// ErrUnauthenticated means no valid credentials (401). It is httpx's,
	// so the token service is an authorizer of every HTTP endpoint.
	ErrUnauthenticated = httpx.ErrUnauthenticated
	// ErrForbidden means the principal lacks the scope (403).
	ErrForbidden = httpx.ErrForbidden
	// ErrInvalidClient means the client id or secret is wrong.
	ErrInvalidClient = errors.New("auth: invalid client")
	// ErrInvalidScope means none of the asked scopes can be granted.
	ErrInvalidScope = errors.New("auth: invalid scope")
	// ErrInvalidRequest means a malformed token request.
	ErrInvalidRequest = errors.New("auth: invalid request")
	// ErrUnsupportedGrant means a grant type other than client_credentials.
	ErrUnsupportedGrant = errors.New("auth: unsupported grant type")
	// ErrSeparationOfDuties means a grant would give one principal
	// conflicting scopes.
	ErrSeparationOfDuties = errors.New("auth: separation of duties")
	// ErrUnknownRole means a role name that does not exist.
	ErrUnknownRole = errors.New("auth: unknown role")
	// ErrInvalidToken means a token that does not parse or verify.
	ErrInvalidToken = errors.New("auth: invalid token")
)
