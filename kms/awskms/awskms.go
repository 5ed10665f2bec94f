package awskms

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/mediaseal/mediaseal/kms"
)

// ProviderName is the Provider field of key references served here.
const ProviderName = "aws-kms"

// maxCiphertext is AWS KMS's limit on a CiphertextBlob.
const maxCiphertext = 6144

// Provider is the AWS KMS adapter. Safe for concurrent use.
type Provider struct {
	client    *awskms.Client
	region    string
	orgRegion string
	versionOf func(wrapped []byte) (string, bool)
}

var _ kms.Provider = (*Provider)(nil)

// Option configures a Provider.
type Option func(*Provider)

// WithCiphertextVersion sets how to read a key version out of a ciphertext
// blob when the server reports no key material id (KMS-compatible servers
// such as local-kms). AWS KMS itself needs no such function.
func WithCiphertextVersion(f func(wrapped []byte) (string, bool)) Option {
	return func(p *Provider) { p.versionOf = f }
}

// New returns a provider for cfg. It refuses a Region other than OrgRegion
// (kms.ErrRegionMismatch) since every key it reaches would be remote.
func New(ctx context.Context, cfg Config, opts ...Option) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := kms.CheckRegion(kms.KeyRef{Provider: ProviderName, KeyID: "(endpoint)"}, cfg.Region, cfg.OrgRegion); err != nil {
		return nil, err
	}
	attempts := cfg.MaxAttempts
	if attempts == 0 {
		attempts = DefaultMaxAttempts
	}
	var awsCfg aws.Config
	if cfg.AccessKeyID != "" {
		awsCfg = aws.Config{
			Region:      cfg.Region,
			Credentials: credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken),
		}
	} else {
		var err error
		awsCfg, err = awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.Region))
		if err != nil {
			return nil, fmt.Errorf("awskms: load AWS config: %w", err)
		}
	}
	client := awskms.NewFromConfig(awsCfg, func(o *awskms.Options) {
		o.RetryMaxAttempts = attempts
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	p := &Provider{client: client, region: cfg.Region, orgRegion: cfg.OrgRegion}
	for _, o := range opts {
		o(p)
	}
	return p, nil
}

// check validates ref and enforces region locality before any call.
func (p *Provider) check(ref kms.KeyRef) error {
	if ref.Provider != ProviderName {
		return fmt.Errorf("%w: provider %q is not %q", kms.ErrNotFound, ref.Provider, ProviderName)
	}
	if ref.KeyID == "" {
		return fmt.Errorf("%w: empty AWS KMS key id", kms.ErrNotFound)
	}
	region, ok := RegionOf(ref.KeyID)
	if !ok {
		region = p.region
	}
	return kms.CheckRegion(ref, region, p.orgRegion)
}

func (p *Provider) version(materialID *string, wrapped []byte) string {
	if v := aws.ToString(materialID); v != "" {
		return v
	}
	if p.versionOf != nil {
		if v, ok := p.versionOf(wrapped); ok {
			return v
		}
	}
	return ""
}

func checkWrapped(wrapped []byte) error {
	if len(wrapped) == 0 || len(wrapped) > maxCiphertext {
		return fmt.Errorf("%w: wrapped key is %d bytes", kms.ErrInvalidCiphertext, len(wrapped))
	}
	return nil
}

// GenerateDataKey implements kms.Provider with KMS GenerateDataKey (AES_256).
func (p *Provider) GenerateDataKey(ctx context.Context, ref kms.KeyRef, ec kms.EncryptionContext) (*kms.DataKey, error) {
	if err := p.check(ref); err != nil {
		return nil, err
	}
	out, err := p.client.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{
		KeyId:             aws.String(ref.KeyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: ec,
	})
	if err != nil {
		return nil, translate("GenerateDataKey", ref, err, false)
	}
	if len(out.Plaintext) != kms.DEKSize {
		clear(out.Plaintext)
		return nil, fmt.Errorf("%w: aws-kms returned a %d-byte data key", kms.ErrUnavailable, len(out.Plaintext))
	}
	return &kms.DataKey{
		Plaintext:  out.Plaintext,
		Wrapped:    out.CiphertextBlob,
		KeyVersion: p.version(out.KeyMaterialId, out.CiphertextBlob),
	}, nil
}

// Unwrap implements kms.Provider with KMS Decrypt, naming the key so a blob
// made under another key is refused.
func (p *Provider) Unwrap(ctx context.Context, ref kms.KeyRef, wrapped []byte, ec kms.EncryptionContext) ([]byte, error) {
	if err := p.check(ref); err != nil {
		return nil, err
	}
	if err := checkWrapped(wrapped); err != nil {
		return nil, err
	}
	out, err := p.client.Decrypt(ctx, &awskms.DecryptInput{
		KeyId:             aws.String(ref.KeyID),
		CiphertextBlob:    wrapped,
		EncryptionContext: ec,
	})
	if err != nil {
		return nil, translate("Decrypt", ref, err, true)
	}
	if len(out.Plaintext) != kms.DEKSize {
		clear(out.Plaintext)
		return nil, fmt.Errorf("%w: aws-kms %s: not a %d-byte data key", kms.ErrInvalidCiphertext, ref.KeyID, kms.DEKSize)
	}
	return out.Plaintext, nil
}

// Rewrap implements kms.Provider with KMS ReEncrypt to the same key: the
// plaintext DEK stays inside AWS KMS.
func (p *Provider) Rewrap(ctx context.Context, ref kms.KeyRef, wrapped []byte, ec kms.EncryptionContext) ([]byte, string, error) {
	if err := p.check(ref); err != nil {
		return nil, "", err
	}
	if err := checkWrapped(wrapped); err != nil {
		return nil, "", err
	}
	out, err := p.client.ReEncrypt(ctx, &awskms.ReEncryptInput{
		SourceKeyId:                  aws.String(ref.KeyID),
		DestinationKeyId:             aws.String(ref.KeyID),
		CiphertextBlob:               wrapped,
		SourceEncryptionContext:      ec,
		DestinationEncryptionContext: ec,
	})
	if err != nil {
		err = translate("ReEncrypt", ref, err, true)
		if errors.Is(err, kms.ErrNotFound) {
			// ReEncrypt reports the key the blob names; if ref itself
			// exists, the blob names another (or no) key.
			if _, derr := p.Describe(ctx, ref); derr == nil {
				return nil, "", fmt.Errorf("%w: %v", kms.ErrInvalidCiphertext, err)
			}
		}
		return nil, "", err
	}
	return out.CiphertextBlob, p.version(out.DestinationKeyMaterialId, out.CiphertextBlob), nil
}

// Describe implements kms.Provider with KMS DescribeKey.
func (p *Provider) Describe(ctx context.Context, ref kms.KeyRef) (*kms.KeyInfo, error) {
	if err := p.check(ref); err != nil {
		return nil, err
	}
	out, err := p.client.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(ref.KeyID)})
	if err != nil {
		return nil, translate("DescribeKey", ref, err, false)
	}
	md := out.KeyMetadata
	if md == nil {
		return nil, fmt.Errorf("%w: aws-kms DescribeKey %s: no metadata", kms.ErrUnavailable, ref.KeyID)
	}
	info := &kms.KeyInfo{Ref: ref, State: state(md.KeyState, md.Enabled), Region: p.region}
	if r, ok := RegionOf(aws.ToString(md.Arn)); ok {
		info.Region = r
	}
	if v := aws.ToString(md.CurrentKeyMaterialId); v != "" {
		info.CurrentVersion = v
		info.Versions = []string{v}
	} else if p.versionOf != nil && info.State == kms.StateEnabled {
		// The older versions stay unknown (Versions nil): a probe sees
		// only the one the server wraps under now.
		info.CurrentVersion = p.probeVersion(ctx, ref.KeyID)
	}
	return info, nil
}

func state(s types.KeyState, enabled bool) kms.KeyState {
	switch s {
	case types.KeyStateEnabled:
		if enabled {
			return kms.StateEnabled
		}
		return kms.StateDisabled
	case types.KeyStatePendingDeletion, types.KeyStatePendingReplicaDeletion:
		return kms.StatePendingDeletion
	case "":
		if enabled {
			return kms.StateEnabled
		}
	}
	return kms.StateDisabled
}

// Rotate implements kms.Rotator with KMS RotateKeyOnDemand. AWS rotates
// asynchronously; the returned version is "" until DescribeKey reports the
// new key material id.
func (p *Provider) Rotate(ctx context.Context, ref kms.KeyRef) (string, error) {
	if err := p.check(ref); err != nil {
		return "", err
	}
	if _, err := p.client.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: aws.String(ref.KeyID)}); err != nil {
		return "", translate("RotateKeyOnDemand", ref, err, false)
	}
	return "", nil
}

// Disable implements kms.Disabler with KMS DisableKey.
func (p *Provider) Disable(ctx context.Context, ref kms.KeyRef) error {
	if err := p.check(ref); err != nil {
		return err
	}
	_, err := p.client.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: aws.String(ref.KeyID)})
	return translate("DisableKey", ref, err, false)
}

// Enable implements kms.Disabler with KMS EnableKey.
func (p *Provider) Enable(ctx context.Context, ref kms.KeyRef) error {
	if err := p.check(ref); err != nil {
		return err
	}
	_, err := p.client.EnableKey(ctx, &awskms.EnableKeyInput{KeyId: aws.String(ref.KeyID)})
	return translate("EnableKey", ref, err, false)
}
