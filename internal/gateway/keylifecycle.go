package gateway

import (
	"context"
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
)

// keyLifecycle carries out approved key disables and deletions for the
// control plane.
type keyLifecycle struct{ g *Gateway }

var _ api.KeyLifecycle = keyLifecycle{}

// platformKeyRefused refuses a destructive operation on the platform key:
// it is every policy's fallback and wraps the control plane's own keys.
func (l keyLifecycle) platformKeyRefused(k store.Key, op string) error {
	return &api.Error{Status: http.StatusConflict, Code: api.CodeKeyState, Message: fmt.Sprintf(
		"key %s is the gateway's platform key (%s), the fallback of every policy and the wrapping key of the control plane: it cannot be %s",
		k.ID, l.g.cfg.KMS.PlatformKey, op)}
}

func (l keyLifecycle) ref(k store.Key) (kms.KeyRef, bool) {
	name, ok := providerByType[k.KeyType]
	return kms.KeyRef{Provider: name, KeyID: k.Ref}, ok
}

// DisableKey implements api.KeyLifecycle: the provider disables the key
// (kms.Disabler), so no gateway, not even one that has not seen the
// registry change yet, gets a DEK or unwraps under it.
func (l keyLifecycle) DisableKey(ctx context.Context, k store.Key) (bool, error) {
	ref, ok := l.ref(k)
	if ok && ref == l.g.platformRef() {
		return false, l.platformKeyRefused(k, "disabled")
	}
	p := l.g.providers[ref.Provider]
	d, isDisabler := p.(kms.Disabler)
	if !ok || p == nil || !isDisabler {
		l.g.log.Warn("key disabled in the registry only: its provider is not configured here or cannot disable keys",
			zap.String("key", k.ID), zap.String("keyType", k.KeyType))
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, l.g.cfg.KMS.Timeout.D())
	defer cancel()
	if err := d.Disable(ctx, ref); err != nil {
		return false, fmt.Errorf("disable %s: %w", ref, err)
	}
	return true, nil
}

// ShredKey implements api.KeyLifecycle with the gateway's ShredKey.
func (l keyLifecycle) ShredKey(ctx context.Context, keyID, actor string) (int64, error) {
	if k, err := l.g.index.GetKey(ctx, keyID); err == nil {
		if ref, ok := l.ref(k); ok && ref == l.g.platformRef() {
			return 0, l.platformKeyRefused(k, "deleted")
		}
	}
	return l.g.ShredKey(ctx, keyID, actor)
}
