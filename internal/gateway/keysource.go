package gateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// Provider names of the adapters, as stored in seal headers and the index.
const (
	providerLocal  = local.ProviderName
	providerAWS    = "aws-kms"
	providerPKCS11 = "pkcs11"
)

var providerByType = map[string]string{
	policy.ProviderPlatform: providerLocal,
	"AWS_KMS":               providerAWS,
	"PKCS11":                providerPKCS11,
}

// keyResolver turns a policy's key reference into a provider key reference.
type keyResolver struct {
	platform kms.KeyRef
	keys     map[string]config.Key
}

func newKeyResolver(cfg *config.Config) *keyResolver {
	r := &keyResolver{platform: kms.KeyRef{Provider: providerLocal, KeyID: cfg.KMS.PlatformKey}, keys: map[string]config.Key{}}
	for _, k := range cfg.Keys {
		r.keys[k.ID] = k
	}
	return r
}

func (r *keyResolver) resolve(ref *policy.KeyReference) (kms.KeyRef, error) {
	if ref == nil || (ref.ProviderType == policy.ProviderPlatform && ref.KeyID == r.platform.KeyID) {
		return r.platform, nil
	}
	k, ok := r.keys[ref.KeyID]
	if !ok {
		return kms.KeyRef{}, fmt.Errorf("%w: key %q is not registered", kms.ErrNotFound, ref.KeyID)
	}
	return kms.KeyRef{Provider: providerByType[k.ProviderType], KeyID: k.ProviderKeyID}, nil
}

// simpleKeys fetches a DEK from the policy's key with a bounded wait and
// falls back to the platform key as the policy says.
type simpleKeys struct {
	providers  map[string]kms.Provider
	resolver   *keyResolver
	onFallback func(req media.KeyRequest, err error)
	cfg        *config.Config
}

func (k *simpleKeys) provider(name string) (kms.Provider, error) {
	p, ok := k.providers[name]
	if !ok {
		return nil, fmt.Errorf("%w: provider %q is not configured", kms.ErrNotFound, name)
	}
	return p, nil
}

func (k *simpleKeys) generate(ctx context.Context, ref kms.KeyRef, ec kms.EncryptionContext, fallback bool) (media.KeyGrant, error) {
	p, err := k.provider(ref.Provider)
	if err != nil {
		return media.KeyGrant{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, k.cfg.KMS.Timeout.D())
	defer cancel()
	dk, err := p.GenerateDataKey(ctx, ref, ec)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: no answer within %s: %v", kms.ErrUnavailable, k.cfg.KMS.Timeout.D(), err)
		}
		return media.KeyGrant{}, err
	}
	return media.KeyGrant{DEK: dk.Plaintext, Envelope: seal.Envelope{
		Key:        seal.KeyRef{Provider: ref.Provider, KeyID: ref.KeyID, KeyVersion: dk.KeyVersion, Fallback: fallback},
		WrappedDEK: dk.Wrapped,
	}}, nil
}

// Acquire implements media.KeySource.
func (k *simpleKeys) Acquire(ctx context.Context, req media.KeyRequest) (media.KeyGrant, error) {
	ref, err := k.resolver.resolve(req.Policy.EncryptionKeyReference)
	if err == nil {
		var g media.KeyGrant
		if g, err = k.generate(ctx, ref, req.Context, false); err == nil {
			return g, nil
		}
	}
	if ref == k.resolver.platform || req.Policy.OnKeyUnavailable == policy.OnKeyUnavailableFailClosed {
		return media.KeyGrant{}, fmt.Errorf("%w: %v", media.ErrKeyUnavailable, err)
	}
	if k.onFallback != nil {
		k.onFallback(req, err)
	}
	g, ferr := k.generate(ctx, k.resolver.platform, req.Context, true)
	if ferr != nil {
		return media.KeyGrant{}, fmt.Errorf("%w: customer key: %v; platform key: %v", media.ErrKeyUnavailable, err, ferr)
	}
	g.Reason = "customer key unavailable: " + err.Error()
	return g, nil
}
