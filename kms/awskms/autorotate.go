package awskms

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/mediaseal/mediaseal/kms"
)

// EnableAutoRotation implements kms.AutoRotator with KMS
// EnableKeyRotation: AWS KMS then makes new key material every periodDays
// (AWS accepts 90 to 2560; it refuses others, and the refusal is
// returned). Older material keeps decrypting. local-kms accepts the call
// but rotates yearly whatever the period.
func (p *Provider) EnableAutoRotation(ctx context.Context, ref kms.KeyRef, periodDays int) error {
	if err := p.check(ref); err != nil {
		return err
	}
	in := &awskms.EnableKeyRotationInput{KeyId: aws.String(ref.KeyID)}
	if periodDays > 0 {
		in.RotationPeriodInDays = aws.Int32(int32(min(periodDays, 1<<30)))
	}
	_, err := p.client.EnableKeyRotation(ctx, in)
	return translate("EnableKeyRotation", ref, err, false)
}

// AutoRotation implements kms.AutoRotator with KMS GetKeyRotationStatus.
func (p *Provider) AutoRotation(ctx context.Context, ref kms.KeyRef) (bool, error) {
	if err := p.check(ref); err != nil {
		return false, err
	}
	out, err := p.client.GetKeyRotationStatus(ctx, &awskms.GetKeyRotationStatusInput{KeyId: aws.String(ref.KeyID)})
	if err != nil {
		return false, translate("GetKeyRotationStatus", ref, err, false)
	}
	return out.KeyRotationEnabled, nil
}
