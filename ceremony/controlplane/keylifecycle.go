package controlplane

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
type keyLifecycle struct{ s *Service }

var _ api.KeyLifecycle = keyLifecycle{}

// platformKeyRefused refuses a destructive operation on the platform key:
// it is every policy's fallback and wraps the control plane's own keys.
func (l keyLifecycle) platformKeyRefused(k store.Key, op string) error {
	return &api.Error{Status: http.StatusConflict, Code: api.CodeKeyState, Message: fmt.Sprintf(
		"key %s is the gateway's platform key (%s), the fallback of every policy and the wrapping key of the control plane: it cannot be %s",
		k.ID, l.s.cfg.PlatformKeyID, op)}
}

func (l keyLifecycle) ref(k store.Key) (kms.KeyRef, bool) {
	name := kms.NameOfType(k.KeyType)
	return kms.KeyRef{Provider: name, KeyID: k.Ref}, name != ""
}

// DisableKey implements api.KeyLifecycle: the provider disables the key
// (kms.Disabler), so no gateway, not even one that has not seen the
// registry change yet, gets a DEK or unwraps under it.
func (l keyLifecycle) DisableKey(ctx context.Context, k store.Key) (bool, error) {
	ref, ok := l.ref(k)
	if ok && ref == l.s.deps.PlatformKey {
		return false, l.platformKeyRefused(k, "disabled")
	}
	p := l.s.deps.Providers[ref.Provider]
	d, isDisabler := p.(kms.Disabler)
	if !ok || p == nil || !isDisabler {
		l.s.log.Warn("key disabled in the registry only: its provider is not configured here or cannot disable keys",
			zap.String("key", k.ID), zap.String("keyType", k.KeyType))
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, l.s.cfg.KMSTimeout)
	defer cancel()
	if err := d.Disable(ctx, ref); err != nil {
		return false, fmt.Errorf("disable %s: %w", ref, err)
	}
	return true, nil
}

// ShredKey implements api.KeyLifecycle with Service.ShredKey.
func (l keyLifecycle) ShredKey(ctx context.Context, keyID, actor string) (int64, error) {
	if k, err := l.s.st.GetKey(ctx, keyID); err == nil {
		if ref, ok := l.ref(k); ok && ref == l.s.deps.PlatformKey {
			return 0, l.platformKeyRefused(k, "deleted")
		}
	}
	return l.s.ShredKey(ctx, keyID, actor)
}
