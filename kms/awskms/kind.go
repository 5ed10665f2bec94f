package awskms

import "github.com/mediaseal/mediaseal/kms"

// What this adapter declares: the kind of keys it serves and the
// capabilities it has. Its tests check each against the real backend.
var (
	_ kms.Kinded    = (*Provider)(nil)
	_ kms.Rotator   = (*Provider)(nil)
	_ kms.Disabler  = (*Provider)(nil)
	_ kms.Destroyer = (*Provider)(nil)
	// AWS KMS also rotates keys itself on a period.
	_ kms.AutoRotator = (*Provider)(nil)
)

// Kind implements kms.Kinded: AWS KMS keys (AWS_KMS in the key registry, aws-kms in key references).
func (*Provider) Kind() kms.Kind { return kms.KindAWS }
