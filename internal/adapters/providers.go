package adapters

import (
	"context"
	"errors"
	"fmt"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/awskms"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/kms/pkcs11"
)

// Providers opens the local keyring and the customer-key providers cfg
// enables into reg, each under the kind it declares. A provider already in
// reg (a test's) is kept. The keyring is returned even when reg already
// names another local provider.
func Providers(ctx context.Context, cfg *config.Config, reg kms.Registry) (*local.Keyring, error) {
	ring, err := local.Open(cfg.KeyringDir(), cfg.Org.Region)
	if err != nil {
		return nil, err
	}
	if reg[local.ProviderName] == nil {
		reg[local.ProviderName] = ring
	}
	c := cfg.KMS
	if _, open := reg.ByName(kms.KindAWS.Name); c.AWS.Enabled && !open {
		versionOf, err := awskms.CiphertextVersionOf(c.AWS.CiphertextFormat)
		if err != nil {
			return nil, &config.FieldError{Field: "kms.aws.ciphertextFormat", Value: c.AWS.CiphertextFormat, Msg: err.Error()}
		}
		p, err := awskms.New(ctx, awskms.Config{Region: c.AWS.Region, Endpoint: c.AWS.Endpoint,
			AccessKeyID: c.AWS.AccessKeyID, SecretAccessKey: c.AWS.SecretAccessKey, SessionToken: c.AWS.SessionToken,
			OrgRegion: cfg.Org.Region, MaxAttempts: c.AWS.MaxAttempts}, awskms.WithCiphertextVersion(versionOf))
		if err != nil {
			return nil, fmt.Errorf("kms.aws: %w", err)
		}
		if err := reg.Add(p); err != nil {
			return nil, err
		}
	}
	if _, open := reg.ByName(kms.KindPKCS11.Name); c.PKCS11.Enabled && !open {
		region := c.PKCS11.Region
		if region == "" {
			region = cfg.Org.Region
		}
		p, err := pkcs11.New(pkcs11.Config{ModulePath: c.PKCS11.ModulePath, TokenLabel: c.PKCS11.TokenLabel,
			PIN: c.PKCS11.PIN, Region: region, OrgRegion: cfg.Org.Region, Sessions: c.PKCS11.Sessions})
		if err != nil {
			return nil, fmt.Errorf("kms.pkcs11: %w", err)
		}
		if err := reg.Add(p); err != nil {
			return nil, err
		}
	}
	return ring, nil
}

// CheckKeys refuses a config key whose provider is not open in reg: a
// policy naming it could never be served.
func CheckKeys(cfg *config.Config, reg kms.Registry) error {
	for i, k := range cfg.Keys {
		if _, _, ok := reg.ByType(k.ProviderType); !ok {
			return &config.FieldError{Field: fmt.Sprintf("keys[%d].providerType", i), Value: k.ProviderType,
				Msg: "its provider is not enabled (kms.aws.enabled / kms.pkcs11.enabled)"}
		}
	}
	return nil
}

// CloseProviders closes every provider of reg but the local keyring,
// which holds nothing open.
func CloseProviders(reg kms.Registry) error {
	var err error
	for name, p := range reg {
		if c, ok := p.(interface{ Close() error }); ok && name != local.ProviderName {
			err = errors.Join(err, c.Close())
		}
	}
	return err
}

// ProviderOf maps a registry key type to its provider name ("" if none).
func ProviderOf(keyType string) string { return providerOfType[keyType] }

var providerOfType = kms.TypeNames()
