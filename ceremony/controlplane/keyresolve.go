package controlplane

import (
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/policy"
)

// registryView is the key registry as policy.ResolveKey sees it: the
// store's keys, plus the config's aliases of the platform key (which the
// store never holds).
func (s *Service) registryView(keys []store.Key) *map[string]policy.RegisteredKey {
	m := make(map[string]policy.RegisteredKey, len(keys))
	for _, k := range keys {
		m[k.ID] = k.Registered()
	}
	for _, k := range s.cfg.Keys {
		if s.isPlatformConfigKey(k) {
			m[k.ID] = policy.RegisteredKey{ID: k.ID, ProviderType: k.ProviderType, ProviderKeyID: k.ProviderKeyID, Bound: true, Enabled: true}
		}
	}
	return &m
}
