package gateway

import (
	"context"
	"fmt"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/awskms"
	"github.com/mediaseal/mediaseal/kms/broker"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/kms/pkcs11"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// Provider names of the adapters, as stored in seal headers and the index.
const (
	providerLocal  = local.ProviderName
	providerAWS    = awskms.ProviderName
	providerPKCS11 = pkcs11.ProviderName
)

var providerByType = map[string]string{
	policy.ProviderPlatform: providerLocal,
	"AWS_KMS":               providerAWS,
	"PKCS11":                providerPKCS11,
}

// keyResolver turns a policy's key reference into a provider key reference,
// through the registered keys (config and control plane).
type keyResolver struct {
	platform kms.KeyRef
	// platformID is kms.platformKey, the id policies name it by.
	platformID string
	keys       func() *map[string]kms.KeyRef
	// unusable lists the keys the registry has disabled (nil: none).
	unusable func() *map[kms.KeyRef]string
}

// disabled says why ref must not be used, or nil: a key disabled or
// scheduled for deletion through the ceremony stops serving new sessions
// at once, whatever its KMS still answers.
func (r *keyResolver) disabled(ref kms.KeyRef) error {
	if r.unusable == nil || ref == r.platform {
		return nil
	}
	if m := r.unusable(); m != nil {
		if state, ok := (*m)[ref]; ok {
			return fmt.Errorf("%w: key %s is %s in the key registry", kms.ErrDisabled, ref, state)
		}
	}
	return nil
}

func (r *keyResolver) resolve(ref *policy.KeyReference) (kms.KeyRef, error) {
	if ref == nil || (ref.ProviderType == policy.ProviderPlatform && ref.KeyID == r.platformID) {
		return r.platform, nil
	}
	if m := r.keys(); m != nil {
		if k, ok := (*m)[ref.KeyID]; ok {
			return k, nil
		}
	}
	return kms.KeyRef{}, fmt.Errorf("%w: key %q is not registered", kms.ErrNotFound, ref.KeyID)
}

// brokerKeys is the media.KeySource of the gateway: the DEK broker (bounded
// wait, platform-key fallback or fail closed, circuit breaker per key).
type brokerKeys struct {
	broker   *broker.Broker
	resolver *keyResolver
}

// Acquire implements media.KeySource. The manager calls it off the media
// path; the broker bounds it.
func (k *brokerKeys) Acquire(ctx context.Context, req media.KeyRequest) (media.KeyGrant, error) {
	ref, err := k.resolver.resolve(req.Policy.EncryptionKeyReference)
	if err != nil {
		// An unknown key is a configuration error: the policy still decides.
		ref = kms.KeyRef{Provider: "unregistered", KeyID: req.Policy.EncryptionKeyReference.KeyID}
	}
	on := broker.PlatformKey
	if req.Policy.OnKeyUnavailable == policy.OnKeyUnavailableFailClosed {
		on = broker.FailClosed
	}
	// A deliberately disabled key follows the policy like an unreachable
	// one: FAIL_CLOSED records nothing, PLATFORM_KEY falls back; the
	// broker audits either way.
	res, err := k.broker.Acquire(ctx, broker.Request{Key: ref, Context: req.Context, OnKeyUnavailable: on,
		Unusable: k.resolver.disabled(ref)}).Wait(ctx)
	if err != nil {
		return media.KeyGrant{}, fmt.Errorf("%w: %v", media.ErrKeyUnavailable, err)
	}
	return media.KeyGrant{DEK: res.DataKey.Plaintext, Reason: res.Reason, Envelope: seal.Envelope{
		Key:        seal.KeyRef{Provider: res.Key.Provider, KeyID: res.Key.KeyID, KeyVersion: res.KeyVersion, Fallback: res.Fallback},
		WrappedDEK: res.DataKey.Wrapped,
	}}, nil
}
