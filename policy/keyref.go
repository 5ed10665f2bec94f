package policy

import (
	"errors"
	"fmt"
)

// ErrKeyReference marks a key reference the registry contradicts: the key
// is not registered, or the reference's providerType is not the key's.
// The API answers it with 400; the gateway treats the key as unavailable.
var ErrKeyReference = errors.New("policy: key reference does not match the key registry")

// The two ways a reference can disagree with the registry; both wrap
// ErrKeyReference.
var (
	ErrKeyNotRegistered = fmt.Errorf("%w: key not registered", ErrKeyReference)
	ErrKeyLabel         = fmt.Errorf("%w: providerType is not the key's", ErrKeyReference)
)

// RegisteredKey is what the key registry knows about one key.
type RegisteredKey struct {
	ID string
	// ProviderType is the registry's key type (AWS_KMS, PKCS11, VAULT,
	// PLATFORM): a local-keyring customer key is PLATFORM too.
	ProviderType string
	// ProviderKeyID is the provider's own reference (ARN, HSM label,
	// keyring id): the platform key is known by it.
	ProviderKeyID string
	Bound         bool
	Enabled       bool
}

// KeyRegistry looks up a registered key by id; found is false when the id
// is not registered. err is a registry (store) failure: callers fail
// closed on it.
type KeyRegistry func(id string) (k RegisteredKey, found bool, err error)

// ResolvedKey is the key a policy's reference really names.
type ResolvedKey struct {
	// Platform is true only for the platform key itself (by its keyring
	// id), never because of a label: any other key is a customer key.
	Platform bool
	// KeyID is the registry id ("" for the platform key named by its
	// keyring id directly).
	KeyID string
	// Usable is false for a customer key that is not bound or not ENABLED:
	// the gateway never asks for its DEKs and the policy's
	// onKeyUnavailable decides.
	Usable bool
	Key    RegisteredKey
}

// ResolveKey resolves ref (nil: the platform key) against the registry.
// platformKeyID is the platform keyring key id (config kms.platformKey).
// It is the only place that decides whether a policy uses a customer key:
// the API's policy checks, the policy gate and the gateway's key source
// all call it.
func ResolveKey(ref *KeyReference, platformKeyID string, reg KeyRegistry) (ResolvedKey, error) {
	if ref == nil {
		return ResolvedKey{Platform: true, Usable: true}, nil
	}
	if platformKeyID != "" && ref.KeyID == platformKeyID && ref.ProviderType == ProviderPlatform {
		return ResolvedKey{Platform: true, Usable: true}, nil
	}
	k, found, err := reg(ref.KeyID)
	if err != nil {
		return ResolvedKey{}, fmt.Errorf("policy: look up key %q: %w", ref.KeyID, err)
	}
	if !found {
		return ResolvedKey{}, fmt.Errorf("%w: %q", ErrKeyNotRegistered, ref.KeyID)
	}
	if k.ProviderType != ref.ProviderType {
		return ResolvedKey{}, fmt.Errorf("%w: key %q has providerType %s, the policy says %s",
			ErrKeyLabel, k.ID, k.ProviderType, ref.ProviderType)
	}
	// A registered alias of the platform keyring key is the platform key.
	if k.ProviderType == ProviderPlatform && platformKeyID != "" && k.ProviderKeyID == platformKeyID {
		return ResolvedKey{Platform: true, KeyID: k.ID, Usable: true, Key: k}, nil
	}
	return ResolvedKey{KeyID: k.ID, Usable: k.Bound && k.Enabled, Key: k}, nil
}
