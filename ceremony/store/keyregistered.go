package store

import (
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/policy"
)

// Registered is k as policy.ResolveKey sees it: bound only after a
// successful bind handshake, enabled only in the ENABLED state.
func (k Key) Registered() policy.RegisteredKey {
	return policy.RegisteredKey{ID: k.ID, ProviderType: k.KeyType, ProviderKeyID: k.Ref,
		Bound: k.Binding.Status == BindingBound, Enabled: k.State == string(kms.StateEnabled)}
}

// NotEnabledKey finds, among the registry's keys, the one a recording's
// envelope names (provider name and key reference; providerOf maps a key
// type to its provider name) when the ceremony holds it in a state other
// than ENABLED: such a key decrypts nothing through mediaseal, whatever its
// KMS still answers. The API's playback checks and the gateway's export
// both decide by it.
func NotEnabledKey(keys []Key, provider, ref string, providerOf func(keyType string) string) (Key, bool) {
	for _, k := range keys {
		if providerOf(k.KeyType) == provider && k.Ref == ref && k.State != "" && k.State != string(kms.StateEnabled) {
			return k, true
		}
	}
	return Key{}, false
}
