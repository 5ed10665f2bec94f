package broker

import "errors"

var (
	// ErrFailClosed means the customer key could not be used and the
	// request's policy is FAIL_CLOSED: the call must not be recorded. It
	// wraps the cause (a kms sentinel or ErrBreakerOpen).
	ErrFailClosed = errors.New("broker: key unavailable and policy is FAIL_CLOSED")
	// ErrBreakerOpen is the cause when the key's circuit breaker is open.
	ErrBreakerOpen = errors.New("broker: circuit breaker open")
	// ErrNoProvider means no provider is registered for a key reference.
	ErrNoProvider = errors.New("broker: no provider for key")
	// ErrClosed means the broker was closed.
	ErrClosed = errors.New("broker: closed")
)
