package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/jobs"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/awskms"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/kms/pkcs11"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// Every adapter can crypto-shred its keys.
var (
	_ jobs.KeyDestroyer = (*local.Keyring)(nil)
	_ jobs.KeyDestroyer = (*pkcs11.Provider)(nil)
	_ jobs.KeyDestroyer = (*awskms.Provider)(nil)
)

// KeyStateDestroyed is the registry state of a crypto-shredded key.
const KeyStateDestroyed = "DESTROYED"

// ErrRecordingShredded means the recording's key was destroyed: no path
// can decrypt it any more.
// It is the API's sentinel so that a playback refusal names it.
var ErrRecordingShredded = api.ErrRecordingShredded

// checkShredded refuses to open a SHREDDED recording, before any KMS call.
func checkShredded(id string, rec store.Recording) error {
	if rec.Status == store.RecordingShredded {
		return fmt.Errorf("%w (recording %s, key %s:%s)", ErrRecordingShredded, id, rec.KeyProvider, rec.KeyID)
	}
	return nil
}

// jobsRunner builds the re-encryption runner and the key rotator over the
// gateway's store, object storage and providers.
func (g *Gateway) jobsService() (*jobs.Service, error) {
	aud := jobs.AuditorFunc(g.recordJobEvent)
	r, err := jobs.New(jobs.Deps{
		Store:   g.index,
		Objects: g.objects,
		Provider: func(name string) (kms.Provider, bool) {
			p, ok := g.providers[name]
			return p, ok
		},
		Auditor: aud,
		Logger:  g.log,
		Busy: func(id string) bool {
			_, ok := g.spool.Find(id)
			return ok
		},
		SealOptions: []seal.Option{seal.WithMaxChunkSize(int(g.cfg.Recording.MaxChunkSize)), seal.WithCompression(g.cfg.Recording.Compression)},
		PlatformKey: g.platformRef(),
	}, jobs.Config{KMSTimeout: g.cfg.KMS.Timeout.D(), Owner: "gateway-" + g.id})
	if err != nil {
		return nil, err
	}
	rot := &jobs.KeyRotator{Store: g.index, Provider: providerMap{g}.Provider, Auditor: aud, Logger: g.log, Timeout: g.cfg.KMS.Timeout.D(),
		Rotated: g.rotated}
	return &jobs.Service{Runner: r, KeyRotator: rot}, nil
}

// startJobs runs the re-encryption runner (resuming interrupted jobs) and
// the rotation scheduler until ctx is done or the returned stop is called.
func (g *Gateway) startJobs(ctx context.Context) (stop func()) {
	svc, err := g.jobsService()
	if err != nil {
		g.log.Error("background jobs disabled", zap.Error(err))
		return func() {}
	}
	g.jobs = svc
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = svc.Runner.Run(ctx) }()
	go func() { defer wg.Done(); svc.KeyRotator.Run(ctx, jobs.DefaultRotationCheck) }()
	return func() { cancel(); wg.Wait() }
}

// jobsAPI is the control plane's view of the jobs (nil before Run).
func (g *Gateway) jobsAPI() api.Jobs {
	if g.jobs == nil {
		return nil
	}
	return g.jobs
}

// recordJobEvent logs a jobs audit event; the audit log records it too
// when the ceremony runs.
func (g *Gateway) recordJobEvent(ctx context.Context, e jobs.Event) {
	g.log.Info("audit", zap.String("action", e.Action), zap.String("actor", e.Actor), zap.String("target", e.Target),
		zap.String("outcome", e.Outcome), zap.Any("details", e.Details))
	g.auditJobEvent(ctx, e)
}

// ShredKey crypto-shreds a registered key (by its registry or config id):
// the provider destroys every version, its recordings become SHREDDED and
// the registry marks it DESTROYED. Call it only once the deletion's quorum
// and delay are satisfied.
func (g *Gateway) ShredKey(ctx context.Context, keyID, actor string) (int64, error) {
	var ref kms.KeyRef
	if m := g.catalog.keys.Load(); m != nil {
		ref = (*m)[keyID]
	}
	if ref.KeyID == "" {
		return 0, fmt.Errorf("%w: key %q is not registered", store.ErrNotFound, keyID)
	}
	svc := g.jobs
	if svc == nil {
		var err error
		if svc, err = g.jobsService(); err != nil {
			return 0, err
		}
	}
	n, err := svc.ShredKey(ctx, ref, actor)
	if err != nil {
		return n, err
	}
	if _, err := g.index.UpdateKeyState(ctx, keyID, KeyStateDestroyed); err != nil && !errors.Is(err, store.ErrNotFound) {
		return n, err
	}
	return n, nil
}
