package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/mediaseal/mediaseal/kms"
)

// platformRef is the platform key as its provider names it: recordings
// without a customer key, fallbacks, and the JWT and audit signing keys
// are wrapped under it.
func (g *Gateway) platformRef() kms.KeyRef {
	kind, _ := kms.KindOfConfig(g.cfg.KMS.Platform.Provider) // config validation refused any other
	return kms.KeyRef{Provider: kind.Name, KeyID: g.cfg.KMS.Platform.KeyID}
}

// PlatformKey is the platform key: the one platform-key recordings are
// under (the API's playback gate and the offline export decide by it).
func (g *Gateway) PlatformKey() kms.KeyRef { return g.platformRef() }

// platformProvider is the provider that holds the platform key.
func (g *Gateway) platformProvider() (kms.Provider, error) {
	ref := g.platformRef()
	p := g.providers[ref.Provider]
	if p == nil {
		return nil, fmt.Errorf("kms.platform.provider %s: provider %q is not open", g.cfg.KMS.Platform.Provider, ref.Provider)
	}
	return p, nil
}

// ensurePlatformKey creates the platform key in the local keyring on first
// start (the trial default). A platform key in AWS KMS or the HSM is never
// created here: it is the operator's, and it must answer now — a gateway
// that cannot reach it refuses to start rather than run on something else.
func (g *Gateway) ensurePlatformKey(ctx context.Context) error {
	ref := g.platformRef()
	if ref.Provider == providerLocal {
		if err := g.keyring.EnsureKey(ref.KeyID); err != nil {
			return fmt.Errorf("platform key: %w", err)
		}
		return nil
	}
	p, err := g.platformProvider()
	if err != nil {
		return err
	}
	// A KMS that hangs is refused like one that answers no: bounded.
	ctx, cancel := context.WithTimeout(ctx, max(4*g.cfg.KMS.Timeout.D(), 2*time.Second))
	defer cancel()
	info, err := p.Describe(ctx, ref)
	if err != nil {
		return fmt.Errorf("platform key %s: %w", ref, err)
	}
	if info.State != kms.StateEnabled {
		return fmt.Errorf("platform key %s: %w: state %s", ref, kms.ErrDisabled, info.State)
	}
	return nil
}
