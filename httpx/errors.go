package httpx

import (
	"errors"
	"fmt"
	"net/http"
)

// Errors an [Authorizer] wraps; [AuthError] maps them to 401 and 403.
var (
	// ErrUnauthenticated means the request carries no valid credentials.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrNoToken means the request carries no bearer token at all (no
	// Authorization header, or another scheme). It wraps
	// ErrUnauthenticated; the refusal then names no error (RFC 6750 §3.1).
	ErrNoToken = fmt.Errorf("%w: missing bearer token", ErrUnauthenticated)
	// ErrForbidden means the principal lacks the scope the route needs.
	ErrForbidden = errors.New("forbidden")
)

// Error is an error response, and its JSON is the body of every error
// response (docs/api.md "Errors"). Field and Scope are the optional
// details.
type Error struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field names the offending request field or query parameter.
	Field string `json:"field,omitempty"`
	// Scope names the scope that was missing (403 from authorization).
	Scope string `json:"scope,omitempty"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%d %s: %s: %s", e.Status, e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// Error codes every endpoint shares. A code names the kind of refusal so
// a client can act on it without parsing the message; a package adds its
// own codes for refusals only it makes.
const (
	CodeBadRequest         = "bad_request"
	CodeInvalidField       = "invalid_field"
	CodeUnknownField       = "unknown_field"
	CodeMalformedJSON      = "malformed_json"
	CodeBodyTooLarge       = "body_too_large"
	CodeUnsupportedMedia   = "unsupported_media_type"
	CodeUnauthenticated    = "unauthenticated"
	CodeForbidden          = "forbidden"
	CodeNotFound           = "not_found"
	CodeMethodNotAllowed   = "method_not_allowed"
	CodeConflict           = "conflict"
	CodePreconditionNeeded = "precondition_required"
	CodePreconditionFailed = "precondition_failed"
	CodeUnprocessable      = "unprocessable"
	CodeTooManyRequests    = "too_many_requests"
	CodeUnavailable        = "unavailable"
	CodeInternal           = "internal"
)

// Errorf returns an Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns a 400 invalid_field naming field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: field, Message: fmt.Sprintf(format, args...)}
}
