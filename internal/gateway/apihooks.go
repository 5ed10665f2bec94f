package gateway

import (
	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// apiHooks wrap what the control-plane API reaches, so a test can inject
// a fault the real parts cannot show on demand (a failed store read, a
// requester hanging up mid-download). Unset in production.
type apiHooks struct {
	store    func(store.Store) store.Store
	exporter func(api.Exporter) api.Exporter
}

// apiDeps applies the hooks to the API's store and ceremony.
func (g *Gateway) apiDeps() (store.Store, api.Ceremony) {
	var st store.Store = g.index
	cer := g.cer.api
	if g.hooks.store != nil {
		st = g.hooks.store(st)
	}
	if g.hooks.exporter != nil && cer.Exporter != nil {
		cer.Exporter = g.hooks.exporter(cer.Exporter)
	}
	return st, cer
}
