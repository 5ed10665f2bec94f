package controlplane

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/local"
)

// A webhook secret is stored only wrapped; it opens for its own
// subscription and for no other (a database holder moving it fails), and
// a tampered form does not open.
func TestWebhookSecretsWrapped(t *testing.T) {
	kr, err := local.Open(filepath.Join(t.TempDir(), "keys"), "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.EnsureKey("platform"); err != nil {
		t.Fatal(err)
	}
	w := webhookSecrets{provider: kr, key: kms.KeyRef{Provider: local.ProviderName, KeyID: "platform"}}
	ctx := context.Background()
	secret, stored, err := w.New(ctx, "sub-a")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "whsec_") || !strings.HasPrefix(stored, wrappedSecretPrefix) || strings.Contains(stored, secret[6:]) {
		t.Fatalf("secret %q stored as %q", secret, stored)
	}
	if got, err := w.Open(ctx, "sub-a", stored); err != nil || got != secret {
		t.Fatalf("open: %v (equal %v)", err, got == secret)
	}
	if _, err := w.Open(ctx, "sub-b", stored); err == nil {
		t.Fatal("a secret moved to another subscription opened")
	}
	if _, err := w.Open(ctx, "sub-a", stored[:len(stored)-4]+"AAAA"); err == nil {
		t.Fatal("a tampered secret opened")
	}
}
