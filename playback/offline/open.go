package offline

import (
	"context"
	"errors"
	"fmt"
	"github.com/mediaseal/mediaseal/recording"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/awskms"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/kms/pkcs11"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/fs"
	s3store "github.com/mediaseal/mediaseal/storage/s3"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// Stores are a stopped gateway's stores, opened for playback.
type Stores struct {
	Playback *playback.Service
	// Index is the control-plane store (the recordings index and the key
	// registry) for what a tool prints beside a playback.
	Index *store.SQL
	// Platform is the platform key.
	Platform  kms.KeyRef
	providers map[string]kms.Provider
}

// Open opens what cfg names for playback: the key providers, the object
// store, the spool (read only: nothing is recovered or uploaded) and the
// index. Unlike a gateway it seeds, creates and serves nothing.
func Open(ctx context.Context, cfg *config.Config) (_ *Stores, err error) {
	s := &Stores{Platform: PlatformKey(cfg), providers: map[string]kms.Provider{}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := s.openProviders(ctx, cfg); err != nil {
		return nil, err
	}
	objects, err := openObjects(ctx, cfg)
	if err != nil {
		return nil, err
	}
	sp, err := spool.Open(cfg.SpoolDir(), int64(cfg.Spool.MaxBytes))
	if err != nil {
		return nil, err
	}
	scfg := store.Config{SQLitePath: cfg.SQLitePath()}
	if cfg.Store.Driver == "postgres" {
		scfg = store.Config{PostgresDSN: cfg.Store.DSN}
	}
	if s.Index, err = store.Open(ctx, scfg); err != nil {
		return nil, err
	}
	keys := recording.Keys{Index: store.RecordingIndex{SQL: s.Index}, OrgID: cfg.Org.ID, Timeout: cfg.KMS.Timeout.D(),
		Provider: kms.Registry(s.providers).ByName}
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
	for name, p := range s.providers {
		if c, ok := p.(interface{ Close() error }); ok && name != local.ProviderName {
			err = errors.Join(err, c.Close())
		}
		delete(s.providers, name)
	}
	return err
}

// providerOfType maps a registry key type to its adapter's provider name.
var providerOfType = map[string]string{
	policy.ProviderPlatform: local.ProviderName,
	"AWS_KMS":               awskms.ProviderName,
	"PKCS11":                pkcs11.ProviderName,
}

// ProviderOf maps a registry key type to its provider name ("" if none).
func ProviderOf(keyType string) string { return providerOfType[keyType] }

// PlatformKey is the platform key cfg names, as its provider names it.
func PlatformKey(cfg *config.Config) kms.KeyRef {
	name := map[string]string{config.PlatformLocal: local.ProviderName, config.PlatformAWS: awskms.ProviderName,
		config.PlatformPKCS11: pkcs11.ProviderName}[cfg.KMS.Platform.Provider]
	return kms.KeyRef{Provider: name, KeyID: cfg.KMS.Platform.KeyID}
}

// openProviders opens the local keyring and the customer-key providers
// cfg enables.
func (s *Stores) openProviders(ctx context.Context, cfg *config.Config) error {
	ring, err := local.Open(cfg.KeyringDir(), cfg.Org.Region)
	if err != nil {
		return err
	}
	s.providers[local.ProviderName] = ring
	c := cfg.KMS
	if c.AWS.Enabled {
		versionOf, err := awskms.CiphertextVersionOf(c.AWS.CiphertextFormat)
		if err != nil {
			return &config.FieldError{Field: "kms.aws.ciphertextFormat", Value: c.AWS.CiphertextFormat, Msg: err.Error()}
		}
		p, err := awskms.New(ctx, awskms.Config{Region: c.AWS.Region, Endpoint: c.AWS.Endpoint,
			AccessKeyID: c.AWS.AccessKeyID, SecretAccessKey: c.AWS.SecretAccessKey, SessionToken: c.AWS.SessionToken,
			OrgRegion: cfg.Org.Region, MaxAttempts: c.AWS.MaxAttempts}, awskms.WithCiphertextVersion(versionOf))
		if err != nil {
			return fmt.Errorf("kms.aws: %w", err)
		}
		s.providers[awskms.ProviderName] = p
	}
	if c.PKCS11.Enabled {
		region := c.PKCS11.Region
		if region == "" {
			region = cfg.Org.Region
		}
		p, err := pkcs11.New(pkcs11.Config{ModulePath: c.PKCS11.ModulePath, TokenLabel: c.PKCS11.TokenLabel,
			PIN: c.PKCS11.PIN, Region: region, OrgRegion: cfg.Org.Region, Sessions: c.PKCS11.Sessions})
		if err != nil {
			return fmt.Errorf("kms.pkcs11: %w", err)
		}
		s.providers[pkcs11.ProviderName] = p
	}
	return nil
}

// openObjects opens the configured object store.
func openObjects(ctx context.Context, cfg *config.Config) (storage.Store, error) {
	if cfg.Storage.Type == "fs" {
		return fs.New(cfg.RecordingsDir())
	}
	c := cfg.Storage.S3
	st, err := s3store.New(ctx, s3store.Config{Bucket: c.Bucket, Region: c.Region, Endpoint: c.Endpoint,
		PathStyle: c.PathStyle, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey})
	if err != nil {
		return nil, fmt.Errorf("storage.s3: %w", err)
	}
	return st, nil
}
