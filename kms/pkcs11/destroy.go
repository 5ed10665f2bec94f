package pkcs11

import (
	"context"

	p11 "github.com/miekg/pkcs11"

	"github.com/mediaseal/mediaseal/kms"
)

// DestroyKey crypto-shreds a key: every object labelled ref.KeyID (the KEK
// and HMAC key of every version) is destroyed in the HSM. Destroying a key
// that does not exist is not an error.
func (p *Provider) DestroyKey(ctx context.Context, ref kms.KeyRef) error {
	if err := p.check(ref); err != nil {
		return err
	}
	return p.withSession(ctx, func(sh p11.SessionHandle) error {
		objs, err := p.findObjects(sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, ref.KeyID)})
		if err != nil {
			return translate("C_FindObjects", ref.KeyID, err)
		}
		for _, o := range objs {
			if err := p.ctx.DestroyObject(sh, o); err != nil && !isRV(err, p11.CKR_OBJECT_HANDLE_INVALID) {
				return translate("C_DestroyObject", ref.KeyID, err)
			}
		}
		return nil
	})
}
