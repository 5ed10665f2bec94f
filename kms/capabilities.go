package kms

import (
	"context"
	"strings"
)

// What a provider can do beyond the [Provider] contract is declared by
// the interfaces it implements, and found by type assertion where it is
// used: never by a provider's name.

// Rotator is implemented by providers that can rotate on demand.
type Rotator interface {
	Rotate(ctx context.Context, ref KeyRef) (newVersion string, err error)
}

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

// Disabler is implemented by providers whose keys can be disabled and
// re-enabled through mediaseal. A disabled key fails GenerateDataKey,
// Unwrap and Rewrap with ErrDisabled until it is enabled again.
type Disabler interface {
	Disable(ctx context.Context, ref KeyRef) error
	Enable(ctx context.Context, ref KeyRef) error
}

// Destroyer is implemented by providers that can destroy a key with every
// version of it (crypto-shredding): the local keyring deletes its KEK
// files, PKCS#11 destroys the HSM objects, AWS KMS schedules the key's
// deletion. Destroying a key that no longer exists is not an error.
type Destroyer interface {
	DestroyKey(ctx context.Context, ref KeyRef) error
}

// Capabilities is what a provider declares it can do.
type Capabilities struct {
	Rotate     bool // Rotator
	AutoRotate bool // AutoRotator
	Disable    bool // Disabler
	Destroy    bool // Destroyer
}

// CapabilitiesOf reports the capability interfaces p implements.
func CapabilitiesOf(p Provider) Capabilities {
	_, rotate := p.(Rotator)
	_, auto := p.(AutoRotator)
	_, disable := p.(Disabler)
	_, destroy := p.(Destroyer)
	return Capabilities{Rotate: rotate, AutoRotate: auto, Disable: disable, Destroy: destroy}
}

func (c Capabilities) String() string {
	var out []string
	for _, f := range []struct {
		on   bool
		name string
	}{{c.Rotate, "rotate"}, {c.AutoRotate, "auto-rotate"}, {c.Disable, "disable"}, {c.Destroy, "destroy"}} {
		if f.on {
			out = append(out, f.name)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ",")
}
