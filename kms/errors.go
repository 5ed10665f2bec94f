package kms

import "errors"

// Errors returned by every Provider. Adapters wrap them with details
// (fmt.Errorf("%w: ...", ErrX)); callers match with errors.Is.
var (
	// ErrUnavailable means the provider could not be reached or timed out.
	ErrUnavailable = errors.New("kms: provider unavailable")
	// ErrAccessDenied means the provider refused the caller.
	ErrAccessDenied = errors.New("kms: access denied")
	// ErrDisabled means the key exists but is disabled or pending deletion.
	ErrDisabled = errors.New("kms: key disabled")
	// ErrNotFound means the key reference or version is unknown.
	ErrNotFound = errors.New("kms: key not found")
	// ErrRegionMismatch means the key lives in another region than the organisation.
	ErrRegionMismatch = errors.New("kms: key region does not match organisation region")
	// ErrThrottled means the provider asked us to slow down.
	ErrThrottled = errors.New("kms: throttled")
	// ErrInvalidCiphertext means a wrapped DEK failed authentication: it was
	// tampered with, or the encryption context differs from the one it was
	// generated under.
	ErrInvalidCiphertext = errors.New("kms: wrapped key does not authenticate")
)
