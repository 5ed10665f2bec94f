package kms

import (
	"context"
	"sort"
	"strings"
)

// DEKSize is the size of every data encryption key, in bytes (AES-256).
const DEKSize = 32

// KeyRef names a key encryption key inside a provider. It never carries
// key material.
type KeyRef struct {
	// Provider is the name of the provider's Kind: "local", "aws-kms",
	// "pkcs11".
	Provider string
	// KeyID is the provider's identifier: a keyring id, an AWS KMS ARN or
	// an HSM label.
	KeyID string
}

func (r KeyRef) String() string { return r.Provider + ":" + r.KeyID }

// Names reports whether r is set and is the key an index row or a seal
// header names by provider and key id. An empty r names nothing, so an
// unset platform key never matches a recording.
func (r KeyRef) Names(provider, keyID string) bool {
	return r.KeyID != "" && r.Provider == provider && r.KeyID == keyID
}

// EncryptionContext is bound to every wrapped DEK: unwrapping under a
// different context fails with ErrInvalidCiphertext.
type EncryptionContext map[string]string

// Canonical returns a stable byte encoding of the context (sorted keys),
// suitable as associated data.
func (c EncryptionContext) Canonical() []byte {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(c[k])
		b.WriteByte(0)
	}
	return []byte(b.String())
}

// DataKey is a freshly generated DEK. Plaintext must be wiped by the caller
// (Wipe) as soon as the recording's writer has derived its keys.
type DataKey struct {
	Plaintext  []byte
	Wrapped    []byte
	KeyVersion string
}

// Wipe zeroes the plaintext DEK.
func (d *DataKey) Wipe() { clear(d.Plaintext) }

// KeyState is the lifecycle state of a key as the provider reports it.
type KeyState string

// Key states.
const (
	StateEnabled         KeyState = "ENABLED"
	StateDisabled        KeyState = "DISABLED"
	StatePendingDeletion KeyState = "PENDING_DELETION"
)

// KeyInfo is what Describe reports: metadata only.
type KeyInfo struct {
	Ref            KeyRef
	State          KeyState
	Region         string
	CurrentVersion string
	Versions       []string
}

// Provider is the contract every key-management adapter implements. All
// methods are safe for concurrent use.
type Provider interface {
	// GenerateDataKey returns a new DEK wrapped under the current version of ref.
	GenerateDataKey(ctx context.Context, ref KeyRef, ec EncryptionContext) (*DataKey, error)
	// Unwrap returns the plaintext DEK of wrapped, which must have been
	// produced under ref with the same encryption context.
	Unwrap(ctx context.Context, ref KeyRef, wrapped []byte, ec EncryptionContext) ([]byte, error)
	// Rewrap re-encrypts wrapped under the newest version of ref, without
	// exposing the plaintext DEK outside the provider where it can.
	Rewrap(ctx context.Context, ref KeyRef, wrapped []byte, ec EncryptionContext) (newWrapped []byte, version string, err error)
	// Describe reports the key's state, region and versions.
	Describe(ctx context.Context, ref KeyRef) (*KeyInfo, error)
}
