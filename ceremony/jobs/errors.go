package jobs

import "errors"

// Errors callers match with errors.Is; they are wrapped with details.
var (
	// ErrInvalidSpec means a job request is malformed; the error is a
	// *SpecError naming the field.
	ErrInvalidSpec = errors.New("jobs: invalid job request")
	// ErrTargetNotCurrent means targetKeyVersion is not the current version
	// of a key in scope: providers rewrap only to their newest version, so
	// the key must be rotated first.
	ErrTargetNotCurrent = errors.New("jobs: target key version is not the key's current version")
	// ErrNoProvider means a recording or key names a provider this gateway
	// has not configured.
	ErrNoProvider = errors.New("jobs: key provider not configured")
	// ErrVerify means a resealed object did not read back as the original.
	ErrVerify = errors.New("jobs: resealed object does not verify")
	// ErrShredRefused means the key may not be shredded (the platform key).
	ErrShredRefused = errors.New("jobs: key may not be shredded")
	// ErrLegalHold means the key protects recordings under legal hold: it
	// is not destroyed while a hold stands (a scheduled deletion retries).
	ErrLegalHold = errors.New("jobs: the key protects recordings under legal hold")
	// ErrNotDestroyable means the key's provider cannot destroy keys.
	ErrNotDestroyable = errors.New("jobs: provider cannot destroy keys")
	// ErrNotRotatable means the key's provider cannot rotate on demand.
	ErrNotRotatable = errors.New("jobs: provider cannot rotate keys")
)

// SpecError names the invalid field of a job request.
type SpecError struct {
	Field string
	Msg   string
}

func (e *SpecError) Error() string { return "jobs: " + e.Field + ": " + e.Msg }

// Unwrap makes a SpecError match ErrInvalidSpec.
func (e *SpecError) Unwrap() error { return ErrInvalidSpec }
