package config

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/kms"
)

// TestPlatformKeyConfig: the platform key's provider must be enabled and
// name its key; local stays the default and keeps kms.platformKey.
func TestPlatformKeyConfig(t *testing.T) {
	const base = "org: {id: o, region: eu-west-2}\n"
	const aws = "  aws: {enabled: true, region: eu-west-2}\n"
	const hsm = "  pkcs11: {enabled: true, modulePath: /m.so, tokenLabel: t}\n"
	cases := []struct {
		name, kms string
		field     string
	}{
		{"default local", "kms: {}\n", ""},
		{"aws with ARN", "kms:\n  platform: {provider: aws, keyId: 'arn:aws:kms:eu-west-2:1:key/k'}\n" + aws, ""},
		{"pkcs11 with label", "kms:\n  platform: {provider: pkcs11, keyId: platform-hsm}\n" + hsm, ""},
		{"aws not enabled", "kms:\n  platform: {provider: aws, keyId: 'arn:aws:kms:eu-west-2:1:key/k'}\n", "kms.platform.provider"},
		{"pkcs11 not enabled", "kms:\n  platform: {provider: pkcs11, keyId: l}\n", "kms.platform.provider"},
		{"aws without key", "kms:\n  platform: {provider: aws}\n" + aws, "kms.platform.keyId"},
		{"unknown provider", "kms:\n  platform: {provider: vault, keyId: k}\n", "kms.platform.provider"},
		{"local with another key", "kms:\n  platform: {provider: local, keyId: other}\n", "kms.platform.keyId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(base + tc.kms))
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.KMS.Platform.Provider == PlatformLocal && c.KMS.Platform.KeyID != c.KMS.PlatformKey {
					t.Fatalf("local platform key %q, want kms.platformKey", c.KMS.Platform.KeyID)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err %v, want a FieldError on %s", err, tc.field)
			}
		})
	}
}

// TestPlatformProvidersAreKinds: each kms.platform.provider value is the
// config section of a kind the kms contract lists, and the kinds' sections
// are exactly these, so the gateway finds the platform key's provider by
// kind.
func TestPlatformProvidersAreKinds(t *testing.T) {
	var sections []string
	for _, k := range kms.Kinds() {
		sections = append(sections, k.Config)
	}
	mine := []string{PlatformLocal, PlatformAWS, PlatformPKCS11}
	slices.Sort(sections)
	slices.Sort(mine)
	if !slices.Equal(sections, mine) {
		t.Fatalf("config platform providers %v, kms kinds' sections %v", mine, sections)
	}
	if _, err := Parse([]byte("kms:\n  platform: {provider: aws-kms, keyId: k}\n")); err == nil ||
		!strings.Contains(err.Error(), "kms.platform.provider: must be local, aws or pkcs11 (got aws-kms)") {
		t.Fatalf("a provider name as platform provider: %v", err)
	}
}
