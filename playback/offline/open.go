package offline

import (
	"context"
	"errors"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/adapters"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/recording"
)

// Stores are a stopped gateway's stores, opened for playback.
type Stores struct {
	Playback *playback.Service
	// Index is the control-plane store (the recordings index and the key
	// registry) for what a tool prints beside a playback.
	Index *store.SQL
	// Platform is the platform key.
	Platform  kms.KeyRef
	providers kms.Registry
}

// Open opens what cfg names for playback: the key providers, the object
// store, the spool (read only: nothing is recovered or uploaded) and the
// index. Unlike a gateway it seeds, creates and serves nothing.
func Open(ctx context.Context, cfg *config.Config) (_ *Stores, err error) {
	s := &Stores{Platform: PlatformKey(cfg), providers: kms.Registry{}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if _, err := adapters.Providers(ctx, cfg, s.providers); err != nil {
		return nil, err
	}
	objects, err := adapters.Objects(ctx, cfg)
	if err != nil {
		return nil, err
	}
	sp, err := adapters.Spool(cfg)
	if err != nil {
		return nil, err
	}
	if s.Index, err = adapters.Store(ctx, cfg); err != nil {
		return nil, err
	}
	keys := recording.Keys{Index: store.RecordingIndex{SQL: s.Index}, OrgID: cfg.Org.ID, Timeout: cfg.KMS.Timeout.D(),
		Provider: s.providers.ByName}
	s.Playback, err = playback.New(playback.Deps{Objects: objects, Index: Index(s.Index, ProviderOf), Keys: keys, Spool: sp, Platform: s.Platform})
	return s, err
}

// Close releases the index and the providers. Idempotent.
func (s *Stores) Close() error {
	var err error
	if s.Index != nil {
		err = s.Index.Close()
		s.Index = nil
	}
	err = errors.Join(err, adapters.CloseProviders(s.providers))
	clear(s.providers)
	return err
}

// ProviderOf maps a registry key type to its provider name ("" if none).
func ProviderOf(keyType string) string { return adapters.ProviderOf(keyType) }

// PlatformKey is the platform key cfg names, as its provider names it.
func PlatformKey(cfg *config.Config) kms.KeyRef { return adapters.PlatformKey(cfg) }
