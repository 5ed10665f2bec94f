package local

import "github.com/mediaseal/mediaseal/kms"

// What this adapter declares: the kind of keys it serves and the
// capabilities it has. Its tests check each against the real backend.
var (
	_ kms.Kinded    = (*Keyring)(nil)
	_ kms.Rotator   = (*Keyring)(nil)
	_ kms.Disabler  = (*Keyring)(nil)
	_ kms.Destroyer = (*Keyring)(nil)
)

// Kind implements kms.Kinded: the platform keyring's keys (PLATFORM in the key registry, local in key references).
func (*Keyring) Kind() kms.Kind { return kms.KindLocal }
