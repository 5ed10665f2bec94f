package pkcs11

import (
	"context"
	"errors"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/kms"
)

// TestHSMEnforces checks what the HSM itself guarantees, below the
// adapter's own checks: a disabled KEK cannot unwrap, KEKs are not
// extractable, and no DEK session object outlives a call.
func TestHSMEnforces(t *testing.T) {
	h := testenv.StartSoftHSM(t, "enforce")
	p, err := New(Config{ModulePath: h.Module, TokenLabel: h.TokenLabel, PIN: h.PIN, Sessions: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	ref, err := p.CreateKey(ctx, "enforce")
	if err != nil {
		t.Fatal(err)
	}
	ec := kms.EncryptionContext{"org": "o"}
	dk, err := p.GenerateDataKey(ctx, ref, ec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Unwrap(ctx, ref, dk.Wrapped, ec); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Rewrap(ctx, ref, dk.Wrapped, ec); err != nil {
		t.Fatal(err)
	}
	if err := p.Disable(ctx, ref); err != nil {
		t.Fatal(err)
	}
	err = p.withSession(ctx, func(sh p11.SessionHandle) error {
		sessionObjs, err := p.findObjects(sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_TOKEN, false)})
		if err != nil {
			return err
		}
		if len(sessionObjs) != 0 {
			t.Errorf("%d DEK session objects left in the HSM", len(sessionObjs))
		}
		vs, err := p.versions(sh, ref.KeyID)
		if err != nil {
			return err
		}
		blob := dk.Wrapped[headerLen : headerLen+kwpLen]
		_, err = p.ctx.UnwrapKey(sh, kwp, vs[0].kek, blob, dekTemplate(false))
		if !errors.Is(translate("C_UnwrapKey", ref.KeyID, err), kms.ErrDisabled) {
			t.Errorf("HSM unwrapped with a disabled KEK: %v", err)
		}
		attrs, err := p.ctx.GetAttributeValue(sh, vs[0].kek, []*p11.Attribute{p11.NewAttribute(p11.CKA_VALUE, nil)})
		if err == nil && len(attrs) > 0 && len(attrs[0].Value) > 0 {
			t.Error("KEK value readable from the HSM")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
