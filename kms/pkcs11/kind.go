package pkcs11

import "github.com/mediaseal/mediaseal/kms"

// What this adapter declares: the kind of keys it serves and the
// capabilities it has. Its tests check each against the real backend.
var (
	_ kms.Kinded    = (*Provider)(nil)
	_ kms.Rotator   = (*Provider)(nil)
	_ kms.Disabler  = (*Provider)(nil)
	_ kms.Destroyer = (*Provider)(nil)
)

// Kind implements kms.Kinded: HSM keys (PKCS11 in the key registry, pkcs11 in key references).
func (*Provider) Kind() kms.Kind { return kms.KindPKCS11 }
