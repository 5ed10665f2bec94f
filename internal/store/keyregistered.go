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
