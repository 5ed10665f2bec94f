package controlplane

import (
	"context"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/retention"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// retentionAPI is the API's view of the legal holds (the store) and the
// sweeper's dry run; nil when this gateway has no object store to sweep.
func (s *Service) retentionAPI() api.Retention {
	if s.retention == nil {
		return nil
	}
	return retentionAPI{SQL: s.st, sweeper: s.retention}
}

type retentionAPI struct {
	*store.SQL
	sweeper *retention.Sweeper
}

func (r retentionAPI) Due(ctx context.Context, limit int) ([]store.Recording, error) {
	return r.sweeper.Due(ctx, limit)
}

// Sweep runs one retention pass now (tests and the operator CLI).
func (s *Service) Sweep(ctx context.Context) (retention.Result, error) {
	if s.retention == nil {
		return retention.Result{}, nil
	}
	return s.retention.Sweep(ctx)
}
