package config

import "github.com/mediaseal/mediaseal/kms"

// KMSPlatform says where the platform key lives: the key that recordings
// without a customer key, recordings that fall back, and the control
// plane's own signing keys (JWT, audit) are wrapped under.
//
// With provider local (the trial default) the key is a 32-byte file under
// kms.local.dir: whoever reads the data directory can unwrap everything
// wrapped under it. With aws or pkcs11 the key never leaves AWS KMS or the
// HSM, and nothing on the gateway's disk can unwrap a DEK or a signing key.
type KMSPlatform struct {
	// Provider is local, aws or pkcs11 (the kms section that serves it;
	// aws and pkcs11 must be enabled there).
	Provider string `yaml:"provider"`
	// KeyID is the key in that provider: the AWS KMS key ARN or the HSM
	// key label. For local it is kms.platformKey (set it or leave it empty).
	KeyID string `yaml:"keyId"`
}

// Platform key providers (config names, as the kms sections: each is the
// Config of a kms.Kind, which a test checks).
const (
	PlatformLocal  = "local"
	PlatformAWS    = "aws"
	PlatformPKCS11 = "pkcs11"
)

func platformKind(provider string) bool {
	_, ok := kms.KindOfConfig(provider)
	return ok
}

func (k *KMS) applyPlatformDefaults() {
	setStr(&k.Platform.Provider, PlatformLocal)
	if k.Platform.Provider == PlatformLocal {
		setStr(&k.Platform.KeyID, k.PlatformKey)
	}
}

func (k KMS) validatePlatform() error {
	p := k.Platform
	checks := []struct {
		ok    bool
		field string
		value any
		msg   string
	}{
		{platformKind(p.Provider), "kms.platform.provider", p.Provider, "must be " + kms.Configs(kms.Kinds())},
		{p.Provider != PlatformAWS || k.AWS.Enabled, "kms.platform.provider", p.Provider, "aws needs kms.aws.enabled: true"},
		{p.Provider != PlatformPKCS11 || k.PKCS11.Enabled, "kms.platform.provider", p.Provider, "pkcs11 needs kms.pkcs11.enabled: true"},
		{p.Provider != PlatformLocal || p.KeyID == k.PlatformKey, "kms.platform.keyId", p.KeyID,
			"for the local keyring the key is kms.platformKey " + k.PlatformKey},
		{p.KeyID != "", "kms.platform.keyId", p.KeyID, "must name the key (AWS KMS key ARN or HSM label)"},
	}
	for _, ch := range checks {
		if !ch.ok {
			return &FieldError{ch.field, ch.value, ch.msg}
		}
	}
	return nil
}
