package kmstest

import (
	"errors"
	"slices"
	"testing"

	"github.com/mediaseal/mediaseal/kms"
)

// testCapabilities checks what the adapter declares against what it does:
// it serves one of the contract's kinds under that kind's name, it
// implements exactly the capability interfaces its test says it has (so
// no caller finds, by type assertion, a capability that is not there),
// and each one it claims works on the real backend.
func testCapabilities(t *testing.T, h Harness) {
	ctx := testCtx(t)
	kd, ok := h.Provider.(kms.Kinded)
	if !ok {
		t.Fatalf("%T declares no kind (kms.Kinded)", h.Provider)
	}
	kind := kd.Kind()
	if !slices.Contains(kms.Kinds(), kind) {
		t.Fatalf("%T declares kind %+v, which is not one of kms.Kinds() %+v", h.Provider, kind, kms.Kinds())
	}
	if ref := h.NewKey(ctx, t); ref.Provider != kind.Name {
		t.Errorf("a key of %T names provider %q, its kind says %q", h.Provider, ref.Provider, kind.Name)
	}
	if got := kms.CapabilitiesOf(h.Provider); got != h.Capabilities {
		t.Fatalf("%T implements %v, its test says it can %v", h.Provider, got, h.Capabilities)
	}
	reg := kms.Registry{}
	if err := reg.Add(h.Provider); err != nil {
		t.Fatal(err)
	}
	if p, name, ok := reg.Provider(kind.Type); !ok || p != h.Provider || name != kind.Name {
		t.Fatalf("Registry.Provider(%q) = %v, %q, %v", kind.Type, p, name, ok)
	}
	if reg.Capabilities(kind.Name) != h.Capabilities {
		t.Fatalf("Registry.Capabilities(%q) = %v", kind.Name, reg.Capabilities(kind.Name))
	}
	c, off := h.Capabilities, h.NotOnBackend
	if c.Rotate {
		t.Run("Rotate", func(t *testing.T) { checkRotate(t, h, off.Rotate) })
	}
	if c.AutoRotate {
		t.Run("AutoRotate", func(t *testing.T) { checkAutoRotate(t, h) })
	}
	if c.Disable {
		t.Run("Disable", func(t *testing.T) { checkDisable(t, h) })
	}
	if c.Destroy {
		t.Run("Destroy", func(t *testing.T) { checkDestroy(t, h) })
	}
}

// checkRotate runs the rotation case through kms.Rotator itself on a
// fresh key (not the Harness's Rotate). A backend that lacks the call
// (notHere) must at least have been asked: its refusal is ErrUnavailable,
// not an adapter error about the reference.
func checkRotate(t *testing.T, h Harness, notHere bool) {
	if notHere {
		ctx := testCtx(t)
		_, err := h.Provider.(kms.Rotator).Rotate(ctx, h.NewKey(ctx, t))
		wantErr(t, "Rotate on a backend without it", err, kms.ErrUnavailable)
		return
	}
	h.Rotate, h.RotatableKey = nil, nil
	testRotation(t, h)
}

// checkAutoRotate turns the provider's own rotation on and reads it back.
func checkAutoRotate(t *testing.T, h Harness) {
	ctx := testCtx(t)
	ref := h.NewKey(ctx, t)
	ar := h.Provider.(kms.AutoRotator)
	on, err := ar.AutoRotation(ctx, ref)
	if err != nil || on {
		t.Fatalf("AutoRotation of a new key = %v, %v; want off", on, err)
	}
	if err := ar.EnableAutoRotation(ctx, ref, 90); err != nil {
		t.Fatalf("EnableAutoRotation: %v", err)
	}
	if on, err := ar.AutoRotation(ctx, ref); err != nil || !on {
		t.Fatalf("AutoRotation after EnableAutoRotation = %v, %v; want on", on, err)
	}
}

// checkDisable runs the disabled-key case through kms.Disabler itself
// (not the Harness's Disable), enabling the key again at its end.
func checkDisable(t *testing.T, h Harness) {
	h.Disable = nil
	testDisabled(t, h)
}

// checkDestroy crypto-shreds a key: nothing wrapped under it unwraps any
// more, and destroying it again is not an error.
func checkDestroy(t *testing.T, h Harness) {
	ctx := testCtx(t)
	ref := h.NewKey(ctx, t)
	ec := sampleContext()
	dk := generate(ctx, t, h.Provider, ref, ec)
	d := h.Provider.(kms.Destroyer)
	if err := d.DestroyKey(ctx, ref); err != nil {
		t.Fatalf("DestroyKey: %v", err)
	}
	got, err := h.Provider.Unwrap(ctx, ref, dk.Wrapped, ec)
	if got != nil || !(errors.Is(err, kms.ErrNotFound) || errors.Is(err, kms.ErrDisabled)) {
		t.Fatalf("Unwrap under a destroyed key: %d bytes, %v; want ErrNotFound or ErrDisabled", len(got), err)
	}
	if err := d.DestroyKey(ctx, ref); err != nil {
		t.Fatalf("DestroyKey again: %v", err)
	}
}
