package gateway

import (
	"context"
	"fmt"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/awskms"
	"github.com/mediaseal/mediaseal/kms/pkcs11"
	"github.com/mediaseal/mediaseal/storage"
	s3store "github.com/mediaseal/mediaseal/storage/s3"
)

// Option adjusts a Gateway at construction (tests inject providers).
type Option func(*Gateway)

// WithKMSProvider registers (or replaces) a key provider by name.
func WithKMSProvider(name string, p kms.Provider) Option {
	return func(g *Gateway) { g.providers[name] = p }
}

// openProviders adds the customer-key providers the config enables, each
// under the kind it declares. Keys whose provider is not enabled are
// refused when a policy names them.
func (g *Gateway) openProviders(ctx context.Context) error {
	c := g.cfg.KMS
	if _, open := g.providers.ByName(kms.KindAWS.Name); c.AWS.Enabled && !open {
		versionOf, err := awskms.CiphertextVersionOf(c.AWS.CiphertextFormat)
		if err != nil {
			return &config.FieldError{Field: "kms.aws.ciphertextFormat", Value: c.AWS.CiphertextFormat, Msg: err.Error()}
		}
		p, err := awskms.New(ctx, awskms.Config{Region: c.AWS.Region, Endpoint: c.AWS.Endpoint,
			AccessKeyID: c.AWS.AccessKeyID, SecretAccessKey: c.AWS.SecretAccessKey, SessionToken: c.AWS.SessionToken,
			OrgRegion: g.cfg.Org.Region, MaxAttempts: c.AWS.MaxAttempts}, awskms.WithCiphertextVersion(versionOf))
		if err != nil {
			return fmt.Errorf("kms.aws: %w", err)
		}
		if err := g.providers.Add(p); err != nil {
			return err
		}
	}
	if _, open := g.providers.ByName(kms.KindPKCS11.Name); c.PKCS11.Enabled && !open {
		region := c.PKCS11.Region
		if region == "" {
			region = g.cfg.Org.Region
		}
		p, err := pkcs11.New(pkcs11.Config{ModulePath: c.PKCS11.ModulePath, TokenLabel: c.PKCS11.TokenLabel,
			PIN: c.PKCS11.PIN, Region: region, OrgRegion: g.cfg.Org.Region, Sessions: c.PKCS11.Sessions})
		if err != nil {
			return fmt.Errorf("kms.pkcs11: %w", err)
		}
		if err := g.providers.Add(p); err != nil {
			return err
		}
	}
	for i, k := range g.cfg.Keys {
		if _, _, ok := g.providers.ByType(k.ProviderType); !ok {
			return &config.FieldError{Field: fmt.Sprintf("keys[%d].providerType", i), Value: k.ProviderType,
				Msg: "its provider is not enabled (kms.aws.enabled / kms.pkcs11.enabled)"}
		}
	}
	return nil
}

func openS3(ctx context.Context, c config.StorageS3) (storage.Store, error) {
	st, err := s3store.New(ctx, s3store.Config{Bucket: c.Bucket, Region: c.Region, Endpoint: c.Endpoint,
		PathStyle: c.PathStyle, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey})
	if err != nil {
		return nil, fmt.Errorf("storage.s3: %w", err)
	}
	return st, nil
}
