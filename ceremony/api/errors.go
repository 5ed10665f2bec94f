package api

import (
	"errors"
	"fmt"
	"net/http"
)

// Errors an Authorizer returns; the middleware maps them to 401 and 403.
var (
	// ErrUnauthenticated means the request carries no valid credentials.
	ErrUnauthenticated = errors.New("api: unauthenticated")
	// ErrForbidden means the principal lacks the scope the route needs.
	ErrForbidden = errors.New("api: forbidden")
)

// Error is the JSON body of every error response.
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

// Error codes.
const (
	CodeBadRequest         = "bad_request"
	CodeInvalidField       = "invalid_field"
	CodeUnknownField       = "unknown_field"
	CodeMalformedJSON      = "malformed_json"
	CodeBodyTooLarge       = "body_too_large"
	CodeUnsupportedMedia   = "unsupported_media_type"
	CodeUnauthenticated    = "unauthenticated"
	CodeForbidden          = "forbidden"
	CodeRegionMismatch     = "region_mismatch"
	CodeNotFound           = "not_found"
	CodeMethodNotAllowed   = "method_not_allowed"
	CodeConflict           = "conflict"
	CodePreconditionNeeded = "precondition_required"
	CodeKeyState           = "key_state"
	CodeKMSUnavailable     = "kms_unavailable"
	CodeInternal           = "internal"
)

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func fieldError(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: field, Message: fmt.Sprintf(format, args...)}
}
