package pkcs11

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	p11 "github.com/miekg/pkcs11"

	"github.com/mediaseal/mediaseal/kms"
)

// version is one key version: the KEK and the context-binding HMAC key.
type version struct {
	n    uint32
	kek  p11.ObjectHandle
	hmac p11.ObjectHandle
}

func versionName(n uint32) string { return "v" + strconv.FormatUint(uint64(n), 10) }

func parseVersion(id []byte) (uint32, bool) {
	s := string(id)
	if !strings.HasPrefix(s, "v") {
		return 0, false
	}
	n, err := strconv.ParseUint(s[1:], 10, 32)
	return uint32(n), err == nil && n > 0
}

// findObjects returns every secret key object matching tmpl.
func (p *Provider) findObjects(sh p11.SessionHandle, tmpl []*p11.Attribute) ([]p11.ObjectHandle, error) {
	if err := p.ctx.FindObjectsInit(sh, tmpl); err != nil {
		return nil, err
	}
	var all []p11.ObjectHandle
	for {
		objs, _, err := p.ctx.FindObjects(sh, 64)
		if err != nil {
			_ = p.ctx.FindObjectsFinal(sh)
			return nil, err
		}
		if len(objs) == 0 {
			break
		}
		all = append(all, objs...)
	}
	return all, p.ctx.FindObjectsFinal(sh)
}

// versions lists the complete versions of label, oldest first. None means
// the key does not exist (kms.ErrNotFound).
func (p *Provider) versions(sh p11.SessionHandle, label string) ([]version, error) {
	objs, err := p.findObjects(sh, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_LABEL, label),
	})
	if err != nil {
		return nil, translate("C_FindObjects", label, err)
	}
	byN := map[uint32]*version{}
	for _, o := range objs {
		attrs, err := p.ctx.GetAttributeValue(sh, o, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_ID, nil),
			p11.NewAttribute(p11.CKA_KEY_TYPE, nil),
		})
		if err != nil {
			return nil, translate("C_GetAttributeValue", label, err)
		}
		n, ok := parseVersion(attrs[0].Value)
		if !ok {
			continue
		}
		v := byN[n]
		if v == nil {
			v = &version{n: n}
			byN[n] = v
		}
		switch attrUint(attrs[1].Value) {
		case p11.CKK_AES:
			v.kek = o
		case p11.CKK_GENERIC_SECRET:
			v.hmac = o
		}
	}
	var out []version
	for _, v := range byN {
		if v.kek != 0 && v.hmac != 0 {
			out = append(out, *v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n < out[j].n })
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no HSM key labelled %q", kms.ErrNotFound, label)
	}
	return out, nil
}

func attrUint(b []byte) uint {
	var n uint
	for i := len(b) - 1; i >= 0; i-- { // native (little) endian CK_ULONG
		n = n<<8 | uint(b[i])
	}
	return n
}

// CreateKey creates label with a first version if it has none yet, and
// returns its reference. Keys are generated inside the HSM.
func (p *Provider) CreateKey(ctx context.Context, label string) (kms.KeyRef, error) {
	ref := kms.KeyRef{Provider: ProviderName, KeyID: label}
	if err := p.check(ref); err != nil {
		return ref, err
	}
	err := p.withSession(ctx, func(sh p11.SessionHandle) error {
		if _, err := p.versions(sh, label); err == nil {
			return nil
		}
		return p.addVersion(sh, label, 1)
	})
	return ref, err
}

// Rotate implements kms.Rotator: a new version is generated in the HSM and
// becomes current; older versions keep unwrapping.
func (p *Provider) Rotate(ctx context.Context, ref kms.KeyRef) (string, error) {
	if err := p.check(ref); err != nil {
		return "", err
	}
	var next uint32
	err := p.withSession(ctx, func(sh p11.SessionHandle) error {
		vs, err := p.versions(sh, ref.KeyID)
		if err != nil {
			return err
		}
		next = vs[len(vs)-1].n + 1
		return p.addVersion(sh, ref.KeyID, next)
	})
	if err != nil {
		return "", err
	}
	return versionName(next), nil
}

func (p *Provider) addVersion(sh p11.SessionHandle, label string, n uint32) error {
	id := versionName(n)
	common := func(keyType uint) []*p11.Attribute {
		return []*p11.Attribute{
			p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
			p11.NewAttribute(p11.CKA_KEY_TYPE, keyType),
			p11.NewAttribute(p11.CKA_VALUE_LEN, 32),
			p11.NewAttribute(p11.CKA_TOKEN, true),
			p11.NewAttribute(p11.CKA_PRIVATE, true),
			p11.NewAttribute(p11.CKA_SENSITIVE, true),
			p11.NewAttribute(p11.CKA_EXTRACTABLE, false),
			p11.NewAttribute(p11.CKA_ENCRYPT, false),
			p11.NewAttribute(p11.CKA_DECRYPT, false),
			p11.NewAttribute(p11.CKA_DERIVE, false),
			p11.NewAttribute(p11.CKA_LABEL, label),
			p11.NewAttribute(p11.CKA_ID, []byte(id)),
		}
	}
	kek, err := p.ctx.GenerateKey(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_GEN, nil)},
		append(common(p11.CKK_AES),
			p11.NewAttribute(p11.CKA_WRAP, true), p11.NewAttribute(p11.CKA_UNWRAP, true),
			p11.NewAttribute(p11.CKA_SIGN, false), p11.NewAttribute(p11.CKA_VERIFY, false)))
	if err != nil {
		return translate("C_GenerateKey(KEK)", label, err)
	}
	_, err = p.ctx.GenerateKey(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_GENERIC_SECRET_KEY_GEN, nil)},
		append(common(p11.CKK_GENERIC_SECRET),
			p11.NewAttribute(p11.CKA_WRAP, false), p11.NewAttribute(p11.CKA_UNWRAP, false),
			p11.NewAttribute(p11.CKA_SIGN, true), p11.NewAttribute(p11.CKA_VERIFY, true)))
	if err != nil {
		_ = p.ctx.DestroyObject(sh, kek)
		return translate("C_GenerateKey(HMAC)", label, err)
	}
	return nil
}

// Disable implements kms.Disabler: every KEK version of the label loses
// CKA_WRAP and CKA_UNWRAP, so the HSM refuses to use it.
func (p *Provider) Disable(ctx context.Context, ref kms.KeyRef) error {
	return p.setUsable(ctx, ref, false)
}

// Enable implements kms.Disabler.
func (p *Provider) Enable(ctx context.Context, ref kms.KeyRef) error {
	return p.setUsable(ctx, ref, true)
}

func (p *Provider) setUsable(ctx context.Context, ref kms.KeyRef, usable bool) error {
	if err := p.check(ref); err != nil {
		return err
	}
	return p.withSession(ctx, func(sh p11.SessionHandle) error {
		vs, err := p.versions(sh, ref.KeyID)
		if err != nil {
			return err
		}
		for _, v := range vs {
			err := p.ctx.SetAttributeValue(sh, v.kek, []*p11.Attribute{
				p11.NewAttribute(p11.CKA_WRAP, usable), p11.NewAttribute(p11.CKA_UNWRAP, usable),
			})
			if err != nil {
				return translate("C_SetAttributeValue", ref.KeyID, err)
			}
		}
		return nil
	})
}

// usable reports whether the KEK may wrap (the key is not disabled).
func (p *Provider) usable(sh p11.SessionHandle, v version, label string) (bool, error) {
	attrs, err := p.ctx.GetAttributeValue(sh, v.kek, []*p11.Attribute{p11.NewAttribute(p11.CKA_WRAP, nil)})
	if err != nil {
		return false, translate("C_GetAttributeValue", label, err)
	}
	return len(attrs[0].Value) == 1 && attrs[0].Value[0] != 0, nil
}
