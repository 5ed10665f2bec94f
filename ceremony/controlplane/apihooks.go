package controlplane

import (
	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// APIHooks wrap what the control-plane API reaches, so a test can inject
// a fault the real parts cannot show on demand (a failed store read, a
// requester hanging up mid-download). Unset in production.
type APIHooks struct {
	Store    func(store.Store) store.Store
	Exporter func(api.Exporter) api.Exporter
}

// apiDeps applies the hooks to the API's store and ceremony.
func (s *Service) apiDeps() (store.Store, api.Ceremony) {
	var st store.Store = s.st
	cer := s.api
	if h := s.deps.Hooks.Store; h != nil {
		st = h(st)
	}
	if h := s.deps.Hooks.Exporter; h != nil && cer.Exporter != nil {
		cer.Exporter = h(cer.Exporter)
	}
	return st, cer
}
