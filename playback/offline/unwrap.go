package offline

import (
	"context"
	"fmt"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// unwrapper unwraps a recording's DEK through the provider its envelope
// names, as the gateway does: the index's envelope supersedes the
// header's (a rewrap replaces it there without touching the object), and
// the KMS context names the organisation, the recording and its policy.
type unwrapper struct {
	providers map[string]kms.Provider
	index     *store.SQL
	timeout   time.Duration
}

func (u unwrapper) Unwrap(ctx context.Context, id string, h *seal.Header) ([]byte, error) {
	env := h.Envelope
	if rec, err := u.index.GetRecording(ctx, id); err == nil && len(rec.WrappedDEK) > 0 && rec.KeyVersion != "" {
		env = seal.Envelope{Key: seal.KeyRef{Provider: rec.KeyProvider, KeyID: rec.KeyID, KeyVersion: rec.KeyVersion, Fallback: rec.Fallback}, WrappedDEK: rec.WrappedDEK}
	}
	p, ok := u.providers[env.Key.Provider]
	if !ok {
		return nil, fmt.Errorf("%w: provider %q is not configured", kms.ErrNotFound, env.Key.Provider)
	}
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	return p.Unwrap(ctx, kms.KeyRef{Provider: env.Key.Provider, KeyID: env.Key.KeyID}, env.WrappedDEK,
		kms.EncryptionContext{"org": h.Context.OrgID, "recording": id, "policy": h.Context.PolicyID})
}
