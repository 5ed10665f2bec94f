// Package kmstest is the conformance suite every [kms.Provider] adapter
// passes: round trip, encryption-context binding, tampering, disabled and
// unknown keys, rotation with old versions still unwrapping, rewrap to the
// newest version, malformed input, concurrent use, and the kind and
// capabilities the adapter declares. An adapter's test
// builds a [Harness] against a real backend and calls [Run].
package kmstest

import (
	"context"
	"testing"

	"github.com/mediaseal/mediaseal/kms"
)

// Harness tells the suite how to drive one provider.
type Harness struct {
	// Provider is the adapter under test.
	Provider kms.Provider
	// NewKey returns a fresh, enabled key that no other subtest uses.
	NewKey func(ctx context.Context, t *testing.T) kms.KeyRef
	// RotatableKey returns a fresh key that Rotate can rotate. Nil means NewKey.
	RotatableKey func(ctx context.Context, t *testing.T) kms.KeyRef
	// Rotate adds a version to ref and makes it current. Nil means the
	// Provider implements kms.Rotator.
	Rotate func(ctx context.Context, t *testing.T, ref kms.KeyRef)
	// Disable disables ref. Nil means the Provider implements kms.Disabler.
	Disable func(ctx context.Context, t *testing.T, ref kms.KeyRef)
	// UnknownKey is a well-formed reference to a key that does not exist.
	UnknownKey kms.KeyRef
	// Region, when set, is the region Describe must report.
	Region string
	// Capabilities is what the adapter really can do. The suite fails if
	// it implements any other capability interface, and exercises each
	// of these on the backend.
	Capabilities kms.Capabilities
	// NotOnBackend are capabilities the adapter has against the real
	// service that the test backend does not implement (local-kms has no
	// RotateKeyOnDemand): the suite checks the call reaches the backend
	// and is refused there as unavailable.
	NotOnBackend kms.Capabilities
}

// Run runs the conformance suite.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Provider == nil || h.NewKey == nil {
		t.Fatal("kmstest: Harness needs Provider and NewKey")
	}
	tests := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"RoundTrip", testRoundTrip},
		{"Describe", testDescribe},
		{"EncryptionContext", testEncryptionContext},
		{"OtherKey", testOtherKey},
		{"Tampered", testTampered},
		{"Malformed", testMalformed},
		{"UnknownKey", testUnknownKey},
		{"Disabled", testDisabled},
		{"Rotation", testRotation},
		{"Concurrent", testConcurrent},
		{"Capabilities", testCapabilities},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

func (h Harness) rotate(ctx context.Context, t *testing.T, ref kms.KeyRef) {
	t.Helper()
	if h.Rotate != nil {
		h.Rotate(ctx, t, ref)
		return
	}
	r, ok := h.Provider.(kms.Rotator)
	if !ok {
		t.Fatal("kmstest: provider is no kms.Rotator and Harness.Rotate is nil")
	}
	if _, err := r.Rotate(ctx, ref); err != nil {
		t.Fatalf("Rotate(%s): %v", ref, err)
	}
}

func (h Harness) disable(ctx context.Context, t *testing.T, ref kms.KeyRef) {
	t.Helper()
	if h.Disable != nil {
		h.Disable(ctx, t, ref)
		return
	}
	d, ok := h.Provider.(kms.Disabler)
	if !ok {
		t.Fatal("kmstest: provider is no kms.Disabler and Harness.Disable is nil")
	}
	if err := d.Disable(ctx, ref); err != nil {
		t.Fatalf("Disable(%s): %v", ref, err)
	}
}

func (h Harness) rotatableKey(ctx context.Context, t *testing.T) kms.KeyRef {
	if h.RotatableKey != nil {
		return h.RotatableKey(ctx, t)
	}
	return h.NewKey(ctx, t)
}
