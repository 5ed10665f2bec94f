package gateway

import (
	"context"
	"fmt"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/audit/s3anchor"
	"github.com/mediaseal/mediaseal/internal/config"
	s3store "github.com/mediaseal/mediaseal/storage/s3"
)

// NewAuditAnchor opens the anchor audit.anchor configures (nil for
// "none"). The operator tools use it too, to verify against it.
func NewAuditAnchor(ctx context.Context, cfg *config.Config) (audit.Anchor, error) {
	an := cfg.Audit.Anchor
	switch an.Backend {
	case "none":
		return nil, nil
	case "s3":
		s := an.S3
		a, err := s3anchor.New(ctx, s3store.Config{Bucket: s.Bucket, Region: s.Region, Endpoint: s.Endpoint, PathStyle: s.PathStyle,
			AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey}, s.Prefix, s.Retention.D())
		if err != nil {
			return nil, fmt.Errorf("audit.anchor.s3: %w", err)
		}
		return a, nil
	default:
		return audit.NewFileAnchor(cfg.AuditAnchorPath(), an.File.AppendOnlyFlag), nil
	}
}
