package gateway

import (
	"context"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/controlplane"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// ControlPlane is the control plane of the ceremony (operator tools, tests).
func (g *Gateway) ControlPlane() *controlplane.Service { return g.cp }

// OpenAuditLog opens the organisation's audit log for operator tools
// (controlplane.Service.OpenAuditLog).
func (g *Gateway) OpenAuditLog(ctx context.Context) (*audit.Log, error) {
	return g.cp.OpenAuditLog(ctx)
}

// PlatformPlaybackNeedsQuorum reads from the shared store whether
// platform-key recordings need the playback quorum (operator tools).
func (g *Gateway) PlatformPlaybackNeedsQuorum(ctx context.Context) (bool, error) {
	return g.cp.PlatformPlaybackNeedsQuorum(ctx)
}

// Store returns the control-plane store (operator tools).
func (g *Gateway) Store() *store.SQL { return g.index }
