package pkcs11

import (
	"context"
	"encoding/binary"
	"fmt"

	p11 "github.com/miekg/pkcs11"

	"github.com/mediaseal/mediaseal/kms"
)

const (
	magic      = "MS11"
	kwpLen     = 40 // RFC 5649 wrap of a 32-byte key
	tagLen     = 32 // HMAC-SHA-256
	headerLen  = len(magic) + 4
	wrappedLen = headerLen + kwpLen + tagLen
)

var (
	kwp  = []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_WRAP_PAD, nil)}
	hmac = []*p11.Mechanism{p11.NewMechanism(p11.CKM_SHA256_HMAC, nil)}
)

// macInput is what the HMAC binds: format, label, version, the wrapped key
// and the canonical encryption context, each length-prefixed.
func macInput(label string, n uint32, kwpBlob []byte, ec kms.EncryptionContext) []byte {
	var b []byte
	field := func(x []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(x)))
		b = append(b, x...)
	}
	field([]byte("mediaseal/pkcs11/" + magic))
	field([]byte(label))
	b = binary.BigEndian.AppendUint32(b, n)
	field(kwpBlob)
	field(ec.Canonical())
	return b
}

// seal wraps the DEK object under version v and appends the context MAC.
func (p *Provider) seal(sh p11.SessionHandle, label string, v version, dek p11.ObjectHandle, ec kms.EncryptionContext) ([]byte, error) {
	blob, err := p.ctx.WrapKey(sh, kwp, v.kek, dek)
	if err != nil {
		return nil, translate("C_WrapKey", label, err)
	}
	if len(blob) != kwpLen {
		return nil, fmt.Errorf("%w: pkcs11 %q: wrapped key is %d bytes, want %d", kms.ErrUnavailable, label, len(blob), kwpLen)
	}
	if err := p.ctx.SignInit(sh, hmac, v.hmac); err != nil {
		return nil, translate("C_SignInit", label, err)
	}
	tag, err := p.ctx.Sign(sh, macInput(label, v.n, blob, ec))
	if err != nil {
		return nil, translate("C_Sign", label, err)
	}
	out := make([]byte, 0, wrappedLen)
	out = append(out, magic...)
	out = binary.BigEndian.AppendUint32(out, v.n)
	out = append(out, blob...)
	return append(out, tag...), nil
}

// unseal verifies the MAC of wrapped inside the HSM and unwraps the DEK into
// a session object; sensitive objects never reveal their value.
func (p *Provider) unseal(sh p11.SessionHandle, label string, wrapped []byte, ec kms.EncryptionContext, sensitive bool) (p11.ObjectHandle, error) {
	if len(wrapped) != wrappedLen || string(wrapped[:len(magic)]) != magic {
		return 0, fmt.Errorf("%w: not a pkcs11 wrapped key (%d bytes)", kms.ErrInvalidCiphertext, len(wrapped))
	}
	vs, err := p.versions(sh, label)
	if err != nil {
		return 0, err
	}
	n := binary.BigEndian.Uint32(wrapped[len(magic):headerLen])
	var v *version
	for i := range vs {
		if vs[i].n == n {
			v = &vs[i]
		}
	}
	if v == nil {
		return 0, fmt.Errorf("%w: HSM key %q has no version %s", kms.ErrInvalidCiphertext, label, versionName(n))
	}
	blob, tag := wrapped[headerLen:headerLen+kwpLen], wrapped[headerLen+kwpLen:]
	if err := p.ctx.VerifyInit(sh, hmac, v.hmac); err != nil {
		return 0, translate("C_VerifyInit", label, err)
	}
	if err := p.ctx.Verify(sh, macInput(label, n, blob, ec), tag); err != nil {
		return 0, translate("C_Verify", label, err)
	}
	if ok, err := p.usable(sh, *v, label); err != nil {
		return 0, err
	} else if !ok {
		return 0, fmt.Errorf("%w: HSM key %q", kms.ErrDisabled, label)
	}
	obj, err := p.ctx.UnwrapKey(sh, kwp, v.kek, blob, dekTemplate(sensitive))
	if err != nil {
		return 0, translate("C_UnwrapKey", label, err)
	}
	return obj, nil
}

// dekTemplate describes a DEK session object. A sensitive one can be
// wrapped again but its value never read.
func dekTemplate(sensitive bool) []*p11.Attribute {
	return []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
		p11.NewAttribute(p11.CKA_TOKEN, false),
		p11.NewAttribute(p11.CKA_SENSITIVE, sensitive),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, true),
		p11.NewAttribute(p11.CKA_ENCRYPT, false),
		p11.NewAttribute(p11.CKA_DECRYPT, false),
	}
}

func (p *Provider) readValue(sh p11.SessionHandle, label string, obj p11.ObjectHandle) ([]byte, error) {
	attrs, err := p.ctx.GetAttributeValue(sh, obj, []*p11.Attribute{p11.NewAttribute(p11.CKA_VALUE, nil)})
	if err != nil {
		return nil, translate("C_GetAttributeValue(DEK)", label, err)
	}
	if len(attrs[0].Value) != kms.DEKSize {
		clear(attrs[0].Value)
		return nil, fmt.Errorf("%w: HSM key %q: unwrapped key is not %d bytes", kms.ErrInvalidCiphertext, label, kms.DEKSize)
	}
	return attrs[0].Value, nil
}

// GenerateDataKey implements kms.Provider: the DEK is generated in the HSM.
func (p *Provider) GenerateDataKey(ctx context.Context, ref kms.KeyRef, ec kms.EncryptionContext) (*kms.DataKey, error) {
	if err := p.check(ref); err != nil {
		return nil, err
	}
	var dk *kms.DataKey
	err := p.withSession(ctx, func(sh p11.SessionHandle) error {
		vs, err := p.versions(sh, ref.KeyID)
		if err != nil {
			return err
		}
		cur := vs[len(vs)-1]
		if ok, err := p.usable(sh, cur, ref.KeyID); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("%w: HSM key %q", kms.ErrDisabled, ref.KeyID)
		}
		obj, err := p.ctx.GenerateKey(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_GEN, nil)},
			append(dekTemplate(false), p11.NewAttribute(p11.CKA_VALUE_LEN, kms.DEKSize)))
		if err != nil {
			return translate("C_GenerateKey(DEK)", ref.KeyID, err)
		}
		defer p.ctx.DestroyObject(sh, obj)
		wrapped, err := p.seal(sh, ref.KeyID, cur, obj, ec)
		if err != nil {
			return err
		}
		plain, err := p.readValue(sh, ref.KeyID, obj)
		if err != nil {
			return err
		}
		dk = &kms.DataKey{Plaintext: plain, Wrapped: wrapped, KeyVersion: versionName(cur.n)}
		return nil
	})
	return dk, err
}

// Unwrap implements kms.Provider.
func (p *Provider) Unwrap(ctx context.Context, ref kms.KeyRef, wrapped []byte, ec kms.EncryptionContext) ([]byte, error) {
	if err := p.check(ref); err != nil {
		return nil, err
	}
	var plain []byte
	err := p.withSession(ctx, func(sh p11.SessionHandle) error {
		obj, err := p.unseal(sh, ref.KeyID, wrapped, ec, false)
		if err != nil {
			return err
		}
		defer p.ctx.DestroyObject(sh, obj)
		plain, err = p.readValue(sh, ref.KeyID, obj)
		return err
	})
	return plain, err
}

// Rewrap implements kms.Provider inside the HSM: the DEK is unwrapped into
// a sensitive session object and wrapped under the newest version.
func (p *Provider) Rewrap(ctx context.Context, ref kms.KeyRef, wrapped []byte, ec kms.EncryptionContext) ([]byte, string, error) {
	if err := p.check(ref); err != nil {
		return nil, "", err
	}
	var out []byte
	var ver string
	err := p.withSession(ctx, func(sh p11.SessionHandle) error {
		obj, err := p.unseal(sh, ref.KeyID, wrapped, ec, true)
		if err != nil {
			return err
		}
		defer p.ctx.DestroyObject(sh, obj)
		vs, err := p.versions(sh, ref.KeyID)
		if err != nil {
			return err
		}
		cur := vs[len(vs)-1]
		out, err = p.seal(sh, ref.KeyID, cur, obj, ec)
		ver = versionName(cur.n)
		return err
	})
	return out, ver, err
}

// Describe implements kms.Provider.
func (p *Provider) Describe(ctx context.Context, ref kms.KeyRef) (*kms.KeyInfo, error) {
	if err := p.check(ref); err != nil {
		return nil, err
	}
	var info *kms.KeyInfo
	err := p.withSession(ctx, func(sh p11.SessionHandle) error {
		vs, err := p.versions(sh, ref.KeyID)
		if err != nil {
			return err
		}
		cur := vs[len(vs)-1]
		info = &kms.KeyInfo{Ref: ref, State: kms.StateEnabled, Region: p.cfg.Region, CurrentVersion: versionName(cur.n)}
		if ok, err := p.usable(sh, cur, ref.KeyID); err != nil {
			return err
		} else if !ok {
			info.State = kms.StateDisabled
		}
		for _, v := range vs {
			info.Versions = append(info.Versions, versionName(v.n))
		}
		return nil
	})
	return info, err
}
