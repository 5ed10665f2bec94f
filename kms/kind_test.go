package kms_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/policy"
)

// TestKindsAreOneTable: every type, name and config section is written
// once, and each lookup finds the kind it came from.
func TestKindsAreOneTable(t *testing.T) {
	types, names, configs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, k := range kms.RegistryKinds() {
		if k.Type == "" || k.Name == "" {
			t.Fatalf("kind %+v lacks a type or name", k)
		}
		if types[k.Type] || names[k.Name] || (k.Config != "" && configs[k.Config]) {
			t.Fatalf("kind %+v repeats a type, name or config section", k)
		}
		types[k.Type], names[k.Name], configs[k.Config] = true, true, true
		if got, ok := kms.KindOfType(k.Type); !ok || got != k {
			t.Errorf("KindOfType(%q) = %+v, %v", k.Type, got, ok)
		}
		if got, ok := kms.KindNamed(k.Name); !ok || got != k {
			t.Errorf("KindNamed(%q) = %+v, %v", k.Name, got, ok)
		}
		if got, ok := kms.KindOfConfig(k.Config); ok != k.Served() || (ok && got != k) {
			t.Errorf("KindOfConfig(%q) = %+v, %v", k.Config, got, ok)
		}
		if want := map[bool]string{true: k.Name}[k.Served()]; kms.NameOfType(k.Type) != want {
			t.Errorf("NameOfType(%q) = %q, want %q", k.Type, kms.NameOfType(k.Type), want)
		}
	}
	for _, k := range kms.Kinds() {
		if !k.Served() {
			t.Errorf("Kinds() lists %+v, which no adapter serves", k)
		}
	}
	if kms.KindVault.Served() || slices.Contains(kms.Kinds(), kms.KindVault) {
		t.Error("VAULT is served by no adapter")
	}
	if got := kms.TypeNames(); len(got) != len(kms.Kinds()) || got["AWS_KMS"] != "aws-kms" || got["PLATFORM"] != "local" || got["PKCS11"] != "pkcs11" {
		t.Errorf("TypeNames() = %v", got)
	}
	for _, bad := range []string{"", "aws-kms", "aws_kms", "HSM", "VAULT "} {
		if k, ok := kms.KindOfType(bad); ok {
			t.Errorf("KindOfType(%q) = %+v, want unknown", bad, k)
		}
		if kms.NameOfType(bad) != "" {
			t.Errorf("NameOfType(%q) = %q, want none", bad, kms.NameOfType(bad))
		}
	}
	if got := kms.Types(kms.Kinds()); got != "PLATFORM, AWS_KMS or PKCS11" {
		t.Errorf("Types(Kinds()) = %q", got)
	}
}

// TestPolicyTypesAreTheRegistryKinds: the policy model sits below this
// package and keeps its own list of key types; it must be the key
// registry's.
func TestPolicyTypesAreTheRegistryKinds(t *testing.T) {
	var want []string
	for _, k := range kms.RegistryKinds() {
		want = append(want, k.Type)
	}
	got := policy.ProviderTypes()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("policy accepts key types %v, the key registry %v", got, want)
	}
}

// kindless is a provider that declares no kind: the registry refuses it.
type kindless struct{ kms.Provider }

type claims struct {
	kms.Provider
	kind kms.Kind
}

func (c claims) Kind() kms.Kind { return c.kind }

func (claims) Rotate(context.Context, kms.KeyRef) (string, error) { return "", nil }

func TestRegistry(t *testing.T) {
	reg := kms.Registry{}
	if err := reg.Add(kindless{}); err == nil || !strings.Contains(err.Error(), "declares no kind") {
		t.Fatalf("Add of a provider without a kind: %v", err)
	}
	for _, k := range []kms.Kind{kms.KindVault, {Type: "X", Name: "x", Config: "x"}, {Type: "AWS_KMS", Name: "local", Config: "aws"}} {
		if err := reg.Add(claims{kind: k}); err == nil {
			t.Errorf("Add of a provider declaring %+v: no error", k)
		}
	}
	aws := claims{kind: kms.KindAWS}
	if err := reg.Add(aws); err != nil {
		t.Fatal(err)
	}
	if p, name, ok := reg.Provider("AWS_KMS"); !ok || p != aws || name != "aws-kms" {
		t.Fatalf("Provider(AWS_KMS) = %v, %q, %v", p, name, ok)
	}
	if p, k, ok := reg.ByType("AWS_KMS"); !ok || p != aws || k != kms.KindAWS {
		t.Fatalf("ByType(AWS_KMS) = %v, %+v, %v", p, k, ok)
	}
	// A served type whose provider is not open finds no provider, only
	// its name; a type no adapter serves and an unknown type find nothing.
	if p, name, ok := reg.Provider("PKCS11"); ok || p != nil || name != "pkcs11" {
		t.Errorf("Provider(PKCS11) = %v, %q, %v; want no provider, name pkcs11", p, name, ok)
	}
	for _, keyType := range []string{"VAULT", "NOPE", ""} {
		if p, name, ok := reg.Provider(keyType); ok || p != nil || name != "" {
			t.Errorf("Provider(%q) = %v, %q, %v; want nothing", keyType, p, name, ok)
		}
	}
	if got := reg.Capabilities("aws-kms"); got != (kms.Capabilities{Rotate: true}) {
		t.Errorf("Capabilities(aws-kms) = %v", got)
	}
	if got := reg.Capabilities("pkcs11"); got != (kms.Capabilities{}) || got.String() != "none" {
		t.Errorf("Capabilities of a provider not open = %v", got)
	}
}

func TestKeyRefNames(t *testing.T) {
	ref := kms.KeyRef{Provider: "local", KeyID: "platform"}
	for _, tc := range []struct {
		ref           kms.KeyRef
		provider, key string
		want          bool
	}{
		{ref, "local", "platform", true},
		{ref, "aws-kms", "platform", false},
		{ref, "local", "other", false},
		{kms.KeyRef{Provider: "local"}, "local", "", false}, // an unset key names nothing
		{kms.KeyRef{}, "", "", false},
	} {
		if got := tc.ref.Names(tc.provider, tc.key); got != tc.want {
			t.Errorf("%v.Names(%q, %q) = %v, want %v", tc.ref, tc.provider, tc.key, got, tc.want)
		}
	}
}
