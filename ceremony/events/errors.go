package events

import "errors"

var (
	// ErrInvalid is a bad subscription, secret or event.
	ErrInvalid = errors.New("events: invalid")
	// ErrNotFound is an unknown subscription.
	ErrNotFound = errors.New("events: not found")
)
