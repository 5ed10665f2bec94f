package gateway

import (
	"github.com/mediaseal/mediaseal/ceremony/controlplane"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms/broker"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/media"
	play "github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// The parts the gateway assembled, for end-to-end tests to check the real ones.

// Config is the configuration the gateway runs with.
func (g *Gateway) Config() *config.Config { return g.cfg }

// Spool is the local spool of recordings not yet uploaded.
func (g *Gateway) Spool() *spool.Spool { return g.spool }

// Keyring is the local KMS (the platform key's provider).
func (g *Gateway) Keyring() *local.Keyring { return g.keyring }

// Broker is the DEK broker (its pools, its breakers).
func (g *Gateway) Broker() *broker.Broker { return g.broker }

// Media is the session manager.
func (g *Gateway) Media() *media.Manager { return g.media }

// Metrics are the session manager's collectors.
func (g *Gateway) Metrics() *media.Metrics { return g.metrics }

// WithAPIHooks wraps what the control-plane API reaches, so that a test
// can inject a fault the real parts cannot show on demand (unset in
// production).
func WithAPIHooks(h controlplane.APIHooks) Option {
	return func(g *Gateway) { g.hooks = h }
}

// ControlPlane is the control plane of the ceremony (operator tools, tests).
func (g *Gateway) ControlPlane() *controlplane.Service { return g.cp }

// Store returns the control-plane store (operator tools).
func (g *Gateway) Store() *store.SQL { return g.index }

// Playback opens, verifies and exports the gateway's recordings.
func (g *Gateway) Playback() *play.Service { return g.playback }
