package pkcs11_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/kmstest"
	"github.com/mediaseal/mediaseal/kms/pkcs11"
)

func newProvider(t *testing.T) *pkcs11.Provider {
	t.Helper()
	h := testenv.StartSoftHSM(t, "mediaseal-test")
	p, err := pkcs11.New(pkcs11.Config{ModulePath: h.Module, TokenLabel: h.TokenLabel, PIN: h.PIN, Region: "eu-west-2", OrgRegion: "eu-west-2"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestConformance(t *testing.T) {
	p := newProvider(t)
	var n atomic.Int64
	kmstest.Run(t, kmstest.Harness{
		Provider: p,
		NewKey: func(ctx context.Context, t *testing.T) kms.KeyRef {
			ref, err := p.CreateKey(ctx, fmt.Sprintf("recordings-%d", n.Add(1)))
			if err != nil {
				t.Fatalf("CreateKey: %v", err)
			}
			return ref
		},
		UnknownKey:   kms.KeyRef{Provider: pkcs11.ProviderName, KeyID: "no-such-label"},
		Region:       "eu-west-2",
		Capabilities: kms.Capabilities{Rotate: true, Disable: true, Destroy: true},
	})
}

func TestWrongPIN(t *testing.T) {
	h := testenv.StartSoftHSM(t, "pin-test")
	_, err := pkcs11.New(pkcs11.Config{ModulePath: h.Module, TokenLabel: h.TokenLabel, PIN: "0000"})
	if !errors.Is(err, kms.ErrAccessDenied) {
		t.Fatalf("err = %v, want ErrAccessDenied", err)
	}
}

func TestRegionMismatch(t *testing.T) {
	_, err := pkcs11.New(pkcs11.Config{ModulePath: "/nonexistent.so", TokenLabel: "t", PIN: "1", Region: "us-east-1", OrgRegion: "us-west-2"})
	if !errors.Is(err, kms.ErrRegionMismatch) || !strings.Contains(err.Error(), "us-east-1") || !strings.Contains(err.Error(), "us-west-2") {
		t.Fatalf("err = %v, want ErrRegionMismatch naming both regions", err)
	}
}

func TestCloseIdempotent(t *testing.T) {
	p := newProvider(t)
	p.Close()
	p.Close()
	_, err := p.GenerateDataKey(context.Background(), kms.KeyRef{Provider: pkcs11.ProviderName, KeyID: "k"}, nil)
	if !errors.Is(err, kms.ErrUnavailable) {
		t.Fatalf("after Close: %v, want ErrUnavailable", err)
	}
}
