package storage

import "errors"

// Errors returned by every Store; adapters wrap them with details.
var (
	// ErrNotFound means no object exists at the key.
	ErrNotFound = errors.New("storage: object not found")
	// ErrUnavailable means the backend could not be reached.
	ErrUnavailable = errors.New("storage: backend unavailable")
	// ErrInvalidKey means the object key is not acceptable.
	ErrInvalidKey = errors.New("storage: invalid object key")
	// ErrChecksum means the stored object does not match the checksum sent.
	ErrChecksum = errors.New("storage: checksum mismatch")
	// ErrInvalidRange means a Get asked for a negative offset.
	ErrInvalidRange = errors.New("storage: invalid range")
	// ErrAccessDenied means the backend refused the request: credentials,
	// bucket policy, or an object-lock retention that forbids deleting.
	ErrAccessDenied = errors.New("storage: access denied")
)
