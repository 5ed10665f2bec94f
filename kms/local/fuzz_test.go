package local_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/local"
)

// FuzzUnwrap feeds arbitrary wrapped keys to the parser: it must never
// panic, and anything but the genuine wrapped key fails authentication.
func FuzzUnwrap(f *testing.F) {
	k, err := local.Open(f.TempDir(), "r")
	if err != nil {
		f.Fatal(err)
	}
	ref := kms.KeyRef{Provider: local.ProviderName, KeyID: "fuzz"}
	if err := k.EnsureKey(ref.KeyID); err != nil {
		f.Fatal(err)
	}
	ec := kms.EncryptionContext{"org": "o"}
	dk, err := k.GenerateDataKey(context.Background(), ref, ec)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(dk.Wrapped)
	f.Add([]byte{})
	f.Add(dk.Wrapped[:17])
	f.Fuzz(func(t *testing.T, wrapped []byte) {
		got, err := k.Unwrap(context.Background(), ref, wrapped, ec)
		if bytes.Equal(wrapped, dk.Wrapped) {
			if err != nil || !bytes.Equal(got, dk.Plaintext) {
				t.Fatalf("genuine key: %v", err)
			}
			return
		}
		if err == nil || got != nil || !errors.Is(err, kms.ErrInvalidCiphertext) {
			t.Fatalf("Unwrap(%x) = %x, %v; want ErrInvalidCiphertext", wrapped, got, err)
		}
	})
}
