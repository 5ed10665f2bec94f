package gateway

import (
	"context"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/playback/offline"
)

// NewAuditAnchor opens the anchor audit.anchor configures (nil for
// "none"). The operator tools use it too, to verify against it.
func NewAuditAnchor(ctx context.Context, cfg *config.Config) (audit.Anchor, error) {
	return offline.AuditAnchor(ctx, cfg)
}
