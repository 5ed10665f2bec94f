package recordingkey

import (
	"context"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/broker"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// KeyRef is the KMS key that wrapped env's DEK.
func KeyRef(env seal.Envelope) kms.KeyRef {
	return kms.KeyRef{Provider: env.Key.Provider, KeyID: env.Key.KeyID}
}

// Envelope is the seal envelope of a DEK wrapped under key (at version;
// fallback when key is the platform key standing in for another).
func Envelope(key kms.KeyRef, version string, fallback bool, wrapped []byte) seal.Envelope {
	return seal.Envelope{
		Key:        seal.KeyRef{Provider: key.Provider, KeyID: key.KeyID, KeyVersion: version, Fallback: fallback},
		WrappedDEK: wrapped,
	}
}

// FromBroker is the envelope of a DEK the broker handed out.
func FromBroker(res *broker.Result) seal.Envelope {
	return Envelope(res.Key, res.KeyVersion, res.Fallback, res.DataKey.Wrapped)
}

// Generate returns a new DEK under key and context ec from p, and its
// envelope (fallback: key is the platform key standing in for another).
func Generate(ctx context.Context, p kms.Provider, key kms.KeyRef, ec kms.EncryptionContext, fallback bool) (*kms.DataKey, seal.Envelope, error) {
	dk, err := p.GenerateDataKey(ctx, key, ec)
	if err != nil {
		return nil, seal.Envelope{}, err
	}
	return dk, Envelope(key, dk.KeyVersion, fallback, dk.Wrapped), nil
}

// Unwrap returns the plaintext DEK of env under ec (from [UnwrapContext] or
// [Recorded]); p is the provider env names. The caller clears it.
func Unwrap(ctx context.Context, p kms.Provider, env seal.Envelope, ec kms.EncryptionContext) ([]byte, error) {
	return p.Unwrap(ctx, KeyRef(env), env.WrappedDEK, ec)
}

// Rewrap re-encrypts env's DEK under the newest version of its key, under
// the same context, and returns the new envelope.
func Rewrap(ctx context.Context, p kms.Provider, env seal.Envelope, ec kms.EncryptionContext) (seal.Envelope, error) {
	w, version, err := p.Rewrap(ctx, KeyRef(env), env.WrappedDEK, ec)
	if err != nil {
		return seal.Envelope{}, err
	}
	return Envelope(KeyRef(env), version, env.Key.Fallback, w), nil
}

// PoolSpec is the broker pool of key for org: each pooled DEK is generated
// under [Pooled] with a fresh [NewDEKID], and serves only requests of org.
func PoolSpec(org string, key kms.KeyRef, size int) broker.PoolSpec {
	return broker.PoolSpec{Key: key, Size: size, Context: kms.EncryptionContext{NameOrg: org},
		NewContext: func() (kms.EncryptionContext, error) {
			id, err := NewDEKID()
			return Pooled(org, key, id), err
		}}
}
