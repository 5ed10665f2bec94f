package api

import (
	"github.com/mediaseal/mediaseal/httpx"
)

// Errors an Authorizer returns; the authorization layer maps them to 401
// and 403. They are httpx's, so one Authorizer serves every endpoint.
var (
	// ErrUnauthenticated means the request carries no valid credentials.
	ErrUnauthenticated = httpx.ErrUnauthenticated
	// ErrForbidden means the principal lacks the scope the route needs.
	ErrForbidden = httpx.ErrForbidden
)

// Error is the JSON body of every error response (httpx.Error).
type Error = httpx.Error

// Error codes: httpx's shared ones and those only the control plane uses.
const (
	CodeBadRequest         = httpx.CodeBadRequest
	CodeInvalidField       = httpx.CodeInvalidField
	CodeUnknownField       = httpx.CodeUnknownField
	CodeMalformedJSON      = httpx.CodeMalformedJSON
	CodeBodyTooLarge       = httpx.CodeBodyTooLarge
	CodeUnsupportedMedia   = httpx.CodeUnsupportedMedia
	CodeUnauthenticated    = httpx.CodeUnauthenticated
	CodeForbidden          = httpx.CodeForbidden
	CodeNotFound           = httpx.CodeNotFound
	CodeMethodNotAllowed   = httpx.CodeMethodNotAllowed
	CodeConflict           = httpx.CodeConflict
	CodePreconditionNeeded = httpx.CodePreconditionNeeded
	CodeInternal           = httpx.CodeInternal
	CodeRegionMismatch     = "region_mismatch"
	CodeKeyState           = "key_state"
	// CodeLegalHold: the operation would destroy recordings under legal hold.
	CodeLegalHold      = "legal_hold"
	CodeKMSUnavailable = "kms_unavailable"
)

func errorf(status int, code, format string, args ...any) *Error {
	return httpx.Errorf(status, code, format, args...)
}

func fieldError(field, format string, args ...any) *Error {
	return httpx.FieldError(field, format, args...)
}
