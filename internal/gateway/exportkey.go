package gateway

import (
	"context"
	"fmt"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
)

// checkKeyUsable refuses to export recording id, before any KMS call, when
// the key registry (read now, not the periodically refreshed catalog)
// holds its key as anything but ENABLED: a key the ceremony disabled or
// scheduled for deletion decrypts nothing through mediaseal, whatever its
// KMS still answers. A registry that cannot be read refuses.
func (g *Gateway) checkKeyUsable(ctx context.Context, id string, rec store.Recording) error {
	if rec.KeyProvider == "" || (kms.KeyRef{Provider: rec.KeyProvider, KeyID: rec.KeyID}) == g.platformRef() {
		return nil // no envelope yet, or the platform key: never disabled
	}
	keys, err := g.index.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("recording %s: reading the key registry: %w", id, err)
	}
	providerOf := func(keyType string) string { return providerByType[keyType] }
	if k, ok := store.NotEnabledKey(keys, rec.KeyProvider, rec.KeyID, providerOf); ok {
		return fmt.Errorf("%w: recording %s is under key %s, which is %s in the key registry", kms.ErrDisabled, id, k.ID, k.State)
	}
	return nil
}
