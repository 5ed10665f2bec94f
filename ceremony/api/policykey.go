package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/policy"
)

// codeStoreUnavailable answers a check that could not read the store: the
// change is refused (503), never let through unchecked.
const codeStoreUnavailable = "store_unavailable"

func storeUnavailable(err error) error {
	return errorf(http.StatusServiceUnavailable, codeStoreUnavailable, "cannot check the change against the store: %v", err)
}

// platformKeyID is the platform keyring key id.
func (s *server) platformKeyID() string {
	if id := s.deps.Ceremony.PlatformKeyID; id != "" {
		return id
	}
	return s.deps.PlatformKeyID
}

// keyRegistry looks keys up in the store for policy.ResolveKey.
func (s *server) keyRegistry(ctx context.Context) policy.KeyRegistry {
	return func(id string) (policy.RegisteredKey, bool, error) {
		k, err := s.deps.Store.GetKey(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return policy.RegisteredKey{}, false, nil
		}
		if err != nil {
			return policy.RegisteredKey{}, false, err
		}
		return k.Registered(), true, nil
	}
}

// resolvePolicyKey resolves a new policy's key through policy.ResolveKey
// (the gateway's key source uses the same): a reference the registry
// contradicts or a customer key that is not bound is a 400, a store
// failure a 503.
func (s *server) resolvePolicyKey(ctx context.Context, p *policy.Policy) (policy.ResolvedKey, error) {
	rk, err := policy.ResolveKey(p.EncryptionKeyReference, s.platformKeyID(), s.keyRegistry(ctx))
	switch {
	case errors.Is(err, policy.ErrKeyNotRegistered):
		return rk, fieldError("encryptionKeyReference.keyId", "key %q is not registered (POST /api/v2/keys first; the platform key is %q)", p.EncryptionKeyReference.KeyID, s.platformKeyID())
	case errors.Is(err, policy.ErrKeyReference):
		return rk, fieldError("encryptionKeyReference.providerType", "%v: a label never makes a key the platform key", err)
	case err != nil:
		return rk, storeUnavailable(err)
	case rk.Platform:
		return rk, nil
	case !rk.Key.Bound:
		return rk, fieldError("encryptionKeyReference.keyId", "key %q is not bound to the organisation (POST /api/v2/keys/%s first)", rk.KeyID, rk.KeyID)
	case p.RecordingType != policy.RecordingNone && p.IsGlobal() && !p.AllowGlobalCustomerKey:
		return rk, fieldError("targetIds",
			"key %q is a customer-managed key: on every queue it widens the blast radius of a KMS outage; name the queues or set allowGlobalCustomerKey: true", rk.KeyID)
	}
	return rk, nil
}
