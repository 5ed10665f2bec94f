package gateway

import (
	"context"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/controlplane"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// KeyStateDestroyed is the registry state of a crypto-shredded key.
const KeyStateDestroyed = controlplane.KeyStateDestroyed

// ErrRecordingShredded means the recording's key was destroyed: no path
// can decrypt it any more.
// It is the API's sentinel so that a playback refusal names it.
var ErrRecordingShredded = api.ErrRecordingShredded

// ShredKey crypto-shreds a registered key (by its registry or config id):
// the provider destroys every version, its recordings become SHREDDED and
// the registry marks it DESTROYED. Call it only once the deletion's quorum
// and delay are satisfied.
func (g *Gateway) ShredKey(ctx context.Context, keyID, actor string) (int64, error) {
	return g.cp.ShredKey(ctx, keyID, actor)
}

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
