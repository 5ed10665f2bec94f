package awskms

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/mediaseal/mediaseal/kms"
)

// DeletionWindowDays is the waiting period of ScheduleKeyDeletion (AWS
// allows 7-30 days). The key is unusable from the moment it is scheduled;
// AWS deletes the key material when the window ends.
const DeletionWindowDays = 7

// DestroyKey crypto-shreds a key with ScheduleKeyDeletion: from now on
// every Decrypt, ReEncrypt and GenerateDataKey under it is refused. A key
// already pending deletion or gone is not an error.
func (p *Provider) DestroyKey(ctx context.Context, ref kms.KeyRef) error {
	if err := p.check(ref); err != nil {
		return err
	}
	_, err := p.client.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{
		KeyId: aws.String(ref.KeyID), PendingWindowInDays: aws.Int32(DeletionWindowDays),
	})
	if err == nil {
		return nil
	}
	err = translate("ScheduleKeyDeletion", ref, err, false)
	if errors.Is(err, kms.ErrNotFound) {
		return nil
	}
	if info, derr := p.Describe(ctx, ref); derr == nil && info.State == kms.StatePendingDeletion {
		return nil
	}
	return err
}
