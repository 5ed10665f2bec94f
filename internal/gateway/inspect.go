package gateway

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mediaseal/mediaseal/ceremony/auth"
	"github.com/mediaseal/mediaseal/ceremony/controlplane"
	"github.com/mediaseal/mediaseal/ceremony/jobs"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms/broker"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// What the end-to-end tests (tests/..., through gatewaytest) look at
// inside a running gateway: its parts, read-only in intent. Each is a
// part the gateway assembled, so a test checks the real one rather than
// a copy of the wiring.

// Config is the configuration the gateway runs with.
func (g *Gateway) Config() *config.Config { return g.cfg }

// Spool is the local spool of recordings not yet uploaded.
func (g *Gateway) Spool() *spool.Spool { return g.spool }

// Keyring is the local KMS (the platform key's provider).
func (g *Gateway) Keyring() *local.Keyring { return g.keyring }

// Jobs is the service of re-encryption jobs and key rotation.
func (g *Gateway) Jobs() *jobs.Service { return g.cp.Jobs() }

// Broker is the DEK broker (its pools, its breakers).
func (g *Gateway) Broker() *broker.Broker { return g.broker }

// Media is the session manager.
func (g *Gateway) Media() *media.Manager { return g.media }

// SessionsRefused is the counter of session requests refused for reason.
func (g *Gateway) SessionsRefused(reason string) prometheus.Counter {
	return g.metrics.Refused(reason)
}

// RefreshCatalog reloads the policies and keys from the store now rather
// than at the next refresh.
func (g *Gateway) RefreshCatalog(ctx context.Context) error { return g.cp.Refresh(ctx) }

// CeremonyWrapper is the key wrapper of the ceremony's signing keys.
func (g *Gateway) CeremonyWrapper() auth.KeyWrapper { return g.cp.Wrapper() }

// TokenIssuer is the issuer the ceremony's tokens carry.
func (g *Gateway) TokenIssuer() string { return g.cp.TokenIssuer() }

// PolicyRefresh is how often a gateway reloads policies from the store.
const PolicyRefresh = controlplane.PolicyRefresh

// APIHooks wrap what the control-plane API reaches, so a test can inject a
// fault the real parts cannot show on demand.
type APIHooks = controlplane.APIHooks

// WithAPIHooks installs h (tests only; unset in production).
func WithAPIHooks(h APIHooks) Option {
	return func(g *Gateway) { g.hooks = h }
}
