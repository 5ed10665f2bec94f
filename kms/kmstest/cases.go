package kmstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/kms"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func sampleContext() kms.EncryptionContext {
	return kms.EncryptionContext{"org": "org-1", "recording": "rec-42", "policy": "pci"}
}

func generate(ctx context.Context, t *testing.T, p kms.Provider, ref kms.KeyRef, ec kms.EncryptionContext) *kms.DataKey {
	t.Helper()
	dk, err := p.GenerateDataKey(ctx, ref, ec)
	if err != nil {
		t.Fatalf("GenerateDataKey(%s): %v", ref, err)
	}
	return dk
}

func wantErr(t *testing.T, op string, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %v", op, targets)
	}
	for _, target := range targets {
		if errors.Is(err, target) {
			return
		}
	}
	t.Fatalf("%s: error %q, want one of %v", op, err, targets)
}

func testRoundTrip(t *testing.T, h Harness) {
	ctx := testCtx(t)
	ref := h.NewKey(ctx, t)
	ec := sampleContext()
	dk := generate(ctx, t, h.Provider, ref, ec)
	if len(dk.Plaintext) != kms.DEKSize {
		t.Fatalf("plaintext DEK is %d bytes, want %d", len(dk.Plaintext), kms.DEKSize)
	}
	if len(dk.Wrapped) == 0 {
		t.Fatal("wrapped DEK is empty")
	}
	if bytes.Contains(dk.Wrapped, dk.Plaintext) {
		t.Fatal("wrapped DEK contains the plaintext DEK")
	}
	got, err := h.Provider.Unwrap(ctx, ref, dk.Wrapped, ec)
	if err != nil {
		t.Fatalf("Unwrap: %v", err)
	}
	if !bytes.Equal(got, dk.Plaintext) {
		t.Fatal("Unwrap returned a different DEK")
	}
	// The same context with its keys in another insertion order unwraps too.
	again := kms.EncryptionContext{}
	for _, k := range []string{"policy", "recording", "org"} {
		again[k] = ec[k]
	}
	if _, err := h.Provider.Unwrap(ctx, ref, dk.Wrapped, again); err != nil {
		t.Fatalf("Unwrap with an equal context: %v", err)
	}
	// Two generations never return the same DEK or wrapped DEK.
	dk2 := generate(ctx, t, h.Provider, ref, ec)
	if bytes.Equal(dk.Plaintext, dk2.Plaintext) || bytes.Equal(dk.Wrapped, dk2.Wrapped) {
		t.Fatal("two GenerateDataKey calls returned the same key")
	}
	// Wipe clears the plaintext.
	dk.Wipe()
	if !bytes.Equal(dk.Plaintext, make([]byte, kms.DEKSize)) {
		t.Fatal("Wipe left key bytes")
	}
}

func testDescribe(t *testing.T, h Harness) {
	ctx := testCtx(t)
	ref := h.NewKey(ctx, t)
	dk := generate(ctx, t, h.Provider, ref, sampleContext())
	info, err := h.Provider.Describe(ctx, ref)
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if info.Ref != ref {
		t.Errorf("Describe Ref = %v, want %v", info.Ref, ref)
	}
	if info.State != kms.StateEnabled {
		t.Errorf("Describe State = %q, want %q", info.State, kms.StateEnabled)
	}
	if h.Region != "" && info.Region != h.Region {
		t.Errorf("Describe Region = %q, want %q", info.Region, h.Region)
	}
	if info.CurrentVersion != "" && dk.KeyVersion != info.CurrentVersion {
		t.Errorf("DataKey version %q, Describe current version %q", dk.KeyVersion, info.CurrentVersion)
	}
	if len(info.Versions) > 0 && !slices.Contains(info.Versions, info.CurrentVersion) {
		t.Errorf("Describe Versions %v lack the current version %q", info.Versions, info.CurrentVersion)
	}
}

func testEncryptionContext(t *testing.T, h Harness) {
	ctx := testCtx(t)
	ref := h.NewKey(ctx, t)
	ec := sampleContext()
	dk := generate(ctx, t, h.Provider, ref, ec)
	tests := []struct {
		name string
		ec   kms.EncryptionContext
	}{
		{"other recording", kms.EncryptionContext{"org": "org-1", "recording": "rec-43", "policy": "pci"}},
		{"other org", kms.EncryptionContext{"org": "org-2", "recording": "rec-42", "policy": "pci"}},
		{"extra pair", kms.EncryptionContext{"org": "org-1", "recording": "rec-42", "policy": "pci", "queue": "q"}},
		{"missing pair", kms.EncryptionContext{"org": "org-1", "recording": "rec-42"}},
		{"key and value swapped", kms.EncryptionContext{"org": "org-1", "rec-42": "recording", "policy": "pci"}},
		{"empty", kms.EncryptionContext{}},
		{"nil", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.Provider.Unwrap(ctx, ref, dk.Wrapped, tc.ec)
			if got != nil {
				t.Fatal("Unwrap returned key bytes under a wrong context")
			}
			wantErr(t, "Unwrap with wrong context", err, kms.ErrInvalidCiphertext)
			_, _, err = h.Provider.Rewrap(ctx, ref, dk.Wrapped, tc.ec)
			wantErr(t, "Rewrap with wrong context", err, kms.ErrInvalidCiphertext)
		})
	}
	// A DEK generated without context unwraps only without context.
	plain := generate(ctx, t, h.Provider, ref, nil)
	if _, err := h.Provider.Unwrap(ctx, ref, plain.Wrapped, kms.EncryptionContext{}); err != nil {
		t.Fatalf("Unwrap with empty context of a nil-context key: %v", err)
	}
	_, err := h.Provider.Unwrap(ctx, ref, plain.Wrapped, ec)
	wantErr(t, "Unwrap with added context", err, kms.ErrInvalidCiphertext)
}

func testOtherKey(t *testing.T, h Harness) {
	ctx := testCtx(t)
	a, b := h.NewKey(ctx, t), h.NewKey(ctx, t)
	ec := sampleContext()
	dk := generate(ctx, t, h.Provider, a, ec)
	got, err := h.Provider.Unwrap(ctx, b, dk.Wrapped, ec)
	if got != nil {
		t.Fatal("Unwrap under another key returned key bytes")
	}
	wantErr(t, "Unwrap under another key", err, kms.ErrInvalidCiphertext)
}

func testTampered(t *testing.T, h Harness) {
	ctx := testCtx(t)
	ref := h.NewKey(ctx, t)
	ec := sampleContext()
	dk := generate(ctx, t, h.Provider, ref, ec)
	w := dk.Wrapped
	mutate := func(f func([]byte) []byte) []byte { return f(bytes.Clone(w)) }
	tests := []struct {
		name    string
		wrapped []byte
		want    []error
	}{
		// The leading bytes are a header in most formats (version, key id):
		// tampering there may also name a version or key that does not exist.
		{"first byte flipped", mutate(func(b []byte) []byte { b[0] ^= 0x01; return b }), []error{kms.ErrInvalidCiphertext, kms.ErrNotFound}},
		{"last byte flipped", mutate(func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }), []error{kms.ErrInvalidCiphertext}},
		{"byte before tag flipped", mutate(func(b []byte) []byte { b[len(b)-17] ^= 0x10; return b }), []error{kms.ErrInvalidCiphertext}},
		{"truncated by one", w[:len(w)-1], []error{kms.ErrInvalidCiphertext}},
		{"truncated to half", w[:len(w)/2], []error{kms.ErrInvalidCiphertext}},
		{"extended by one", append(bytes.Clone(w), 0), []error{kms.ErrInvalidCiphertext}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.Provider.Unwrap(ctx, ref, tc.wrapped, ec)
			if got != nil {
				t.Fatal("Unwrap of a tampered key returned key bytes")
			}
			wantErr(t, "Unwrap tampered", err, tc.want...)
		})
	}
}

func testMalformed(t *testing.T, h Harness) {
	ctx := testCtx(t)
	ref := h.NewKey(ctx, t)
	ec := sampleContext()
	wrappedTests := []struct {
		name    string
		wrapped []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"one byte", []byte{1}},
		{"zeros", make([]byte, 64)},
		{"text", []byte("\x01this is not a wrapped data key, not even close to one......")},
		{"oversized", bytes.Repeat([]byte{0x01}, 8192)},
	}
	for _, tc := range wrappedTests {
		t.Run("Unwrap/"+tc.name, func(t *testing.T) {
			got, err := h.Provider.Unwrap(ctx, ref, tc.wrapped, ec)
			if got != nil {
				t.Fatal("Unwrap of garbage returned key bytes")
			}
			wantErr(t, "Unwrap garbage", err, kms.ErrInvalidCiphertext)
			_, _, err = h.Provider.Rewrap(ctx, ref, tc.wrapped, ec)
			wantErr(t, "Rewrap garbage", err, kms.ErrInvalidCiphertext)
		})
	}
	refTests := []struct {
		name string
		ref  kms.KeyRef
	}{
		{"empty ref", kms.KeyRef{}},
		{"empty key id", kms.KeyRef{Provider: ref.Provider}},
		{"other provider", kms.KeyRef{Provider: "no-such-provider", KeyID: ref.KeyID}},
	}
	for _, tc := range refTests {
		t.Run("Ref/"+tc.name, func(t *testing.T) {
			_, err := h.Provider.GenerateDataKey(ctx, tc.ref, ec)
			wantErr(t, "GenerateDataKey", err, kms.ErrNotFound)
			_, err = h.Provider.Describe(ctx, tc.ref)
			wantErr(t, "Describe", err, kms.ErrNotFound)
		})
	}
}

func testUnknownKey(t *testing.T, h Harness) {
	ctx := testCtx(t)
	if h.UnknownKey == (kms.KeyRef{}) {
		t.Skip("Harness.UnknownKey not set")
	}
	ec := sampleContext()
	dk := generate(ctx, t, h.Provider, h.NewKey(ctx, t), ec)
	_, err := h.Provider.GenerateDataKey(ctx, h.UnknownKey, ec)
	wantErr(t, "GenerateDataKey", err, kms.ErrNotFound)
	_, err = h.Provider.Describe(ctx, h.UnknownKey)
	wantErr(t, "Describe", err, kms.ErrNotFound)
	_, err = h.Provider.Unwrap(ctx, h.UnknownKey, dk.Wrapped, ec)
	wantErr(t, "Unwrap", err, kms.ErrNotFound)
	_, _, err = h.Provider.Rewrap(ctx, h.UnknownKey, dk.Wrapped, ec)
	wantErr(t, "Rewrap", err, kms.ErrNotFound)
}

func testDisabled(t *testing.T, h Harness) {
	ctx := testCtx(t)
	ref := h.NewKey(ctx, t)
	ec := sampleContext()
	dk := generate(ctx, t, h.Provider, ref, ec)
	h.disable(ctx, t, ref)
	_, err := h.Provider.GenerateDataKey(ctx, ref, ec)
	wantErr(t, "GenerateDataKey on a disabled key", err, kms.ErrDisabled)
	got, err := h.Provider.Unwrap(ctx, ref, dk.Wrapped, ec)
	if got != nil {
		t.Fatal("Unwrap on a disabled key returned key bytes")
	}
	wantErr(t, "Unwrap on a disabled key", err, kms.ErrDisabled)
	_, _, err = h.Provider.Rewrap(ctx, ref, dk.Wrapped, ec)
	wantErr(t, "Rewrap on a disabled key", err, kms.ErrDisabled)
	info, err := h.Provider.Describe(ctx, ref)
	if err != nil {
		t.Fatalf("Describe of a disabled key: %v", err)
	}
	if info.State != kms.StateDisabled {
		t.Fatalf("Describe State = %q, want %q", info.State, kms.StateDisabled)
	}
	// Re-enabling restores service where the provider supports it.
	if d, ok := h.Provider.(kms.Disabler); ok && h.Disable == nil {
		if err := d.Enable(ctx, ref); err != nil {
			t.Fatalf("Enable: %v", err)
		}
		if _, err := h.Provider.Unwrap(ctx, ref, dk.Wrapped, ec); err != nil {
			t.Fatalf("Unwrap after Enable: %v", err)
		}
	}
}

func testRotation(t *testing.T, h Harness) {
	ctx := testCtx(t)
	ref := h.rotatableKey(ctx, t)
	ec := sampleContext()
	old := generate(ctx, t, h.Provider, ref, ec)
	h.rotate(ctx, t, ref)
	cur := generate(ctx, t, h.Provider, ref, ec)
	if old.KeyVersion == "" || cur.KeyVersion == "" {
		t.Fatalf("provider reports no key versions (%q, %q)", old.KeyVersion, cur.KeyVersion)
	}
	if old.KeyVersion == cur.KeyVersion {
		t.Fatalf("version after rotation is still %q", cur.KeyVersion)
	}
	got, err := h.Provider.Unwrap(ctx, ref, old.Wrapped, ec)
	if err != nil {
		t.Fatalf("Unwrap of a %s key after rotation: %v", old.KeyVersion, err)
	}
	if !bytes.Equal(got, old.Plaintext) {
		t.Fatal("old version unwrapped to another DEK")
	}
	rewrapped, version, err := h.Provider.Rewrap(ctx, ref, old.Wrapped, ec)
	if err != nil {
		t.Fatalf("Rewrap: %v", err)
	}
	if version != cur.KeyVersion {
		t.Fatalf("Rewrap moved to version %q, want newest %q", version, cur.KeyVersion)
	}
	if bytes.Equal(rewrapped, old.Wrapped) {
		t.Fatal("Rewrap returned the old wrapped key")
	}
	got, err = h.Provider.Unwrap(ctx, ref, rewrapped, ec)
	if err != nil {
		t.Fatalf("Unwrap after Rewrap: %v", err)
	}
	if !bytes.Equal(got, old.Plaintext) {
		t.Fatal("rewrapped key unwrapped to another DEK")
	}
	// Rewrap keeps the context binding.
	_, err = h.Provider.Unwrap(ctx, ref, rewrapped, kms.EncryptionContext{"org": "org-2"})
	wantErr(t, "Unwrap rewrapped with wrong context", err, kms.ErrInvalidCiphertext)
	// Rewrapping a key already at the newest version stays there.
	_, version, err = h.Provider.Rewrap(ctx, ref, cur.Wrapped, ec)
	if err != nil || version != cur.KeyVersion {
		t.Fatalf("Rewrap of a newest-version key: version %q, err %v", version, err)
	}
	info, err := h.Provider.Describe(ctx, ref)
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if info.CurrentVersion != "" && info.CurrentVersion != cur.KeyVersion {
		t.Fatalf("Describe CurrentVersion %q, want %q", info.CurrentVersion, cur.KeyVersion)
	}
	if len(info.Versions) > 0 && (!slices.Contains(info.Versions, old.KeyVersion) || !slices.Contains(info.Versions, cur.KeyVersion)) {
		t.Fatalf("Describe Versions %v, want both %q and %q", info.Versions, old.KeyVersion, cur.KeyVersion)
	}
}

func testConcurrent(t *testing.T, h Harness) {
	ctx := testCtx(t)
	ref := h.NewKey(ctx, t)
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				ec := kms.EncryptionContext{"recording": fmt.Sprintf("rec-%d-%d", w, i)}
				dk, err := h.Provider.GenerateDataKey(ctx, ref, ec)
				if err != nil {
					errs <- fmt.Errorf("GenerateDataKey: %w", err)
					return
				}
				got, err := h.Provider.Unwrap(ctx, ref, dk.Wrapped, ec)
				if err != nil {
					errs <- fmt.Errorf("Unwrap: %w", err)
					return
				}
				if !bytes.Equal(got, dk.Plaintext) {
					errs <- errors.New("Unwrap returned another DEK")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
