package kms

import "context"

// AutoRotator is implemented by providers that rotate a key themselves on
// a period set in the provider (AWS KMS automatic rotation). mediaseal
// turns that rotation on and checks it stays on; it then only observes
// the new versions (Describe), it does not rotate such keys itself.
type AutoRotator interface {
	// EnableAutoRotation turns automatic rotation of ref on, every
	// periodDays (the provider's default when periodDays <= 0).
	EnableAutoRotation(ctx context.Context, ref KeyRef, periodDays int) error
	// AutoRotation reports whether automatic rotation of ref is on.
	AutoRotation(ctx context.Context, ref KeyRef) (bool, error)
}
