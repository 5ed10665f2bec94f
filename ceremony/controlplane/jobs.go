package controlplane

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/jobs"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
)

// KeyStateDestroyed is the registry state of a crypto-shredded key.
const KeyStateDestroyed = "DESTROYED"

// jobsService builds the re-encryption runner and the key rotator over the
// gateway's store, object storage and providers.
func (s *Service) jobsService() (*jobs.Service, error) {
	aud := jobs.AuditorFunc(s.recordJobEvent)
	r, err := jobs.New(jobs.Deps{
		Store:       s.st,
		Objects:     s.deps.Objects,
		Provider:    s.deps.Providers.ByName,
		Auditor:     aud,
		Logger:      s.log,
		Busy:        s.deps.Busy,
		SealOptions: s.cfg.SealOptions,
		PlatformKey: s.deps.PlatformKey,
	}, jobs.Config{KMSTimeout: s.cfg.KMSTimeout, Owner: "gateway-" + s.cfg.GatewayID})
	if err != nil {
		return nil, err
	}
	rot := &jobs.KeyRotator{Store: s.st, Providers: s.deps.Providers, Rotated: s.deps.Rotated, Auditor: aud, Logger: s.log, Timeout: s.cfg.KMSTimeout}
	return &jobs.Service{Runner: r, KeyRotator: rot}, nil
}

// jobsAPI is the control plane's view of the jobs (nil before Open).
func (s *Service) jobsAPI() api.Jobs {
	if s.jobs == nil {
		return nil
	}
	return s.jobs
}

// recordJobEvent logs a jobs audit event; the audit log records it too
// when the ceremony runs.
func (s *Service) recordJobEvent(ctx context.Context, e jobs.Event) {
	s.log.Info("audit", zap.String("action", e.Action), zap.String("actor", e.Actor), zap.String("target", e.Target),
		zap.String("outcome", e.Outcome), zap.Any("details", e.Details))
	s.auditJobEvent(ctx, e)
}

// ShredKey crypto-shreds a registered key (by its registry or config id):
// the provider destroys every version, its recordings become SHREDDED and
// the registry marks it DESTROYED. Call it only once the deletion's quorum
// and delay are satisfied.
func (s *Service) ShredKey(ctx context.Context, keyID, actor string) (int64, error) {
	var ref kms.KeyRef
	if m := s.cat.Keys(); m != nil {
		ref = (*m)[keyID]
	}
	if ref.KeyID == "" {
		return 0, fmt.Errorf("%w: key %q is not registered", store.ErrNotFound, keyID)
	}
	svc := s.jobs
	if svc == nil {
		var err error
		if svc, err = s.jobsService(); err != nil {
			return 0, err
		}
	}
	n, err := svc.ShredKey(ctx, ref, actor)
	if err != nil {
		return n, err
	}
	if _, err := s.st.UpdateKeyState(ctx, keyID, KeyStateDestroyed); err != nil && !errors.Is(err, store.ErrNotFound) {
		return n, err
	}
	return n, nil
}

// Jobs is the service of re-encryption jobs and key rotation (nil before
// Open, or when it could not be built).
func (s *Service) Jobs() *jobs.Service { return s.jobs }
