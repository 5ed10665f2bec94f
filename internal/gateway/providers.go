package gateway

import (
	"context"
	"errors"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/storage"
)

// openProviders adds the customer-key providers the config enables.
func (g *Gateway) openProviders(_ context.Context) error {
	if g.cfg.KMS.AWS.Enabled || g.cfg.KMS.PKCS11.Enabled {
		return errors.New("kms.aws / kms.pkcs11: customer-key providers are not wired yet")
	}
	return nil
}

func openS3(_ context.Context, _ config.StorageS3) (storage.Store, error) {
	return nil, errors.New("storage.type s3: not wired yet")
}
