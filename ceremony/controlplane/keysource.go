package controlplane

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/broker"
	"github.com/mediaseal/mediaseal/kms/recordingkey"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/policy"
)

// keyResolver turns a policy's key reference into a provider key reference,
// through the registered keys (config and control plane).
type keyResolver struct {
	platform kms.KeyRef
	// platformID is kms.platformKey, the id policies name it by.
	platformID string
	keys       func() *map[string]kms.KeyRef
	// registry is what the key registry says of each key (binding,
	// state, type) for policy.ResolveKey; nil: nothing registered.
	registry func() *map[string]policy.RegisteredKey
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

func (r *keyResolver) lookup(id string) (policy.RegisteredKey, bool, error) {
	if r.registry == nil {
		return policy.RegisteredKey{}, false, nil
	}
	m := r.registry()
	if m == nil {
		return policy.RegisteredKey{}, false, nil
	}
	k, ok := (*m)[id]
	return k, ok, nil
}

// resolve finds the provider key a policy names through policy.ResolveKey
// (the same resolution the API's policy checks and gate use). A reference
// that is unregistered, mislabelled, unbound or disabled is never used:
// it comes back with an unusable error so the policy's onKeyUnavailable
// decides, never the label.
func (r *keyResolver) resolve(ref *policy.KeyReference) (kms.KeyRef, error) {
	rk, err := policy.ResolveKey(ref, r.platformID, r.lookup)
	if err != nil {
		return kms.KeyRef{Provider: "unregistered", KeyID: ref.KeyID}, fmt.Errorf("%w: %v", kms.ErrNotFound, err)
	}
	if rk.Platform {
		return r.platform, nil
	}
	var k kms.KeyRef
	if m := r.keys(); m != nil {
		k = (*m)[rk.KeyID]
	}
	if k.Provider == "" {
		return kms.KeyRef{Provider: "unregistered", KeyID: rk.KeyID}, fmt.Errorf("%w: key %q has no provider here", kms.ErrNotFound, rk.KeyID)
	}
	if !rk.Usable {
		return k, fmt.Errorf("%w: key %q is not bound and enabled in the key registry", kms.ErrDisabled, rk.KeyID)
	}
	if err := r.disabled(k); err != nil {
		return k, err
	}
	return k, nil
}

// KeySource is the media.KeySource of a gateway: the policy's key as the
// key registry resolves it, from the DEK broker (bounded wait,
// platform-key fallback or fail closed, circuit breaker per key,
// pre-fetch pools).
type KeySource struct {
	broker   *broker.Broker
	resolver *keyResolver
	// pool, when set, starts the pool of a key the first time a request
	// names it (a customer key registered at run time).
	pool func(kms.KeyRef)
}

var _ media.KeySource = (*KeySource)(nil)

// KeySource resolves the keys of the catalog's policies and gets their
// DEKs from b. With pool, the platform key and every usable key the
// current policies name get a DEK pre-fetch pool of poolSize, and any
// other key gets one the first time a session names it usable.
func (s *Service) KeySource(b *broker.Broker, pool bool, poolSize int) *KeySource {
	cat := s.Catalog()
	k := &KeySource{broker: b, resolver: &keyResolver{platform: s.deps.PlatformKey, platformID: s.cfg.PlatformKeyID,
		keys: cat.Keys, unusable: cat.Unusable, registry: cat.Registry}}
	if !pool {
		return k
	}
	k.pool = func(ref kms.KeyRef) {
		err := b.EnsurePool(recordingkey.PoolSpec(s.cfg.OrgID, ref, poolSize))
		if err != nil && !errors.Is(err, broker.ErrClosed) {
			s.log.Warn("no DEK pool for key", zap.Stringer("key", ref), zap.Error(err))
		}
	}
	k.pool(s.deps.PlatformKey)
	set := cat.Policies()
	if set == nil {
		return k
	}
	for _, p := range set.Policies() {
		if p.EncryptionKeyReference == nil {
			continue
		}
		if ref, unusable := k.resolver.resolve(p.EncryptionKeyReference); unusable == nil {
			k.pool(ref)
		}
	}
	return k
}

// Acquire implements media.KeySource: the broker answers in its own
// goroutine (a pooled DEK at once), which delivers straight to media.
func (k *KeySource) Acquire(ctx context.Context, req media.KeyRequest, deliver func(media.KeyGrant, error)) {
	// A key the registry does not vouch for is treated as unavailable:
	// the policy's onKeyUnavailable decides, the broker audits.
	ref, unusable := k.resolver.resolve(req.Policy.EncryptionKeyReference)
	on := broker.PlatformKey
	if req.Policy.OnKeyUnavailable == policy.OnKeyUnavailableFailClosed {
		on = broker.FailClosed
	}
	if unusable == nil && k.pool != nil {
		k.pool(ref)
	}
	// A deliberately disabled key follows the policy like an unreachable
	// one: FAIL_CLOSED records nothing, PLATFORM_KEY falls back; the
	// broker audits either way.
	k.broker.AcquireFunc(ctx, broker.Request{Key: ref, Context: req.Context, OnKeyUnavailable: on, Unusable: unusable},
		func(res *broker.Result, err error) {
			if err != nil {
				deliver(media.KeyGrant{}, fmt.Errorf("%w: %v", media.ErrKeyUnavailable, err))
				return
			}
			deliver(media.KeyGrant{DEK: res.DataKey.Plaintext, Reason: res.Reason, Context: res.Context,
				Envelope: recordingkey.FromBroker(res)}, nil)
		})
}
