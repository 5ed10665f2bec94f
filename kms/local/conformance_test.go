package local_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/kmstest"
	"github.com/mediaseal/mediaseal/kms/local"
)

func TestConformance(t *testing.T) {
	k, err := local.Open(t.TempDir(), "eu-west-2")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	kmstest.Run(t, kmstest.Harness{
		Provider: k,
		NewKey: func(_ context.Context, t *testing.T) kms.KeyRef {
			id := fmt.Sprintf("key-%d", n.Add(1))
			if err := k.EnsureKey(id); err != nil {
				t.Fatal(err)
			}
			return kms.KeyRef{Provider: local.ProviderName, KeyID: id}
		},
		UnknownKey:   kms.KeyRef{Provider: local.ProviderName, KeyID: "no-such-key"},
		Region:       "eu-west-2",
		Capabilities: kms.Capabilities{Rotate: true, Disable: true, Destroy: true},
	})
}

// TestReopen checks that keys, versions and the disabled state survive a
// restart of the keyring (new process, same directory).
func TestReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k, err := local.Open(dir, "r")
	if err != nil {
		t.Fatal(err)
	}
	ref := kms.KeyRef{Provider: local.ProviderName, KeyID: "platform"}
	if err := k.EnsureKey(ref.KeyID); err != nil {
		t.Fatal(err)
	}
	ec := kms.EncryptionContext{"org": "o"}
	dk, err := k.GenerateDataKey(ctx, ref, ec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Rotate(ctx, ref); err != nil {
		t.Fatal(err)
	}
	k2, err := local.Open(dir, "r")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k2.Unwrap(ctx, ref, dk.Wrapped, ec); err != nil {
		t.Fatalf("Unwrap after reopen: %v", err)
	}
	info, err := k2.Describe(ctx, ref)
	if err != nil || info.CurrentVersion != "v2" || len(info.Versions) != 2 {
		t.Fatalf("Describe after reopen = %+v, %v; want v2 of 2 versions", info, err)
	}
	if err := k2.Disable(ctx, ref); err != nil {
		t.Fatal(err)
	}
	k3, _ := local.Open(dir, "r")
	if _, err := k3.GenerateDataKey(ctx, ref, ec); err == nil {
		t.Fatal("disabled state lost on reopen")
	}
}
