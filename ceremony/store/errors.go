package store

import "errors"

// Errors returned by the store; they are wrapped with the id or value
// concerned, match them with errors.Is.
var (
	// ErrNotFound means no (live) row has the id.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means an optimistic-concurrency check failed: the row
	// changed since the caller read it, or is in a state that forbids the
	// change (e.g. progress on a finished recording).
	ErrConflict = errors.New("store: conflict")
	// ErrDuplicate means a row with the same id or unique name exists.
	ErrDuplicate = errors.New("store: already exists")
	// ErrInvalid means the argument cannot be stored as given.
	ErrInvalid = errors.New("store: invalid argument")
)
