package adapters

import (
	"context"
	"fmt"
	"time"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/local"
)

// PlatformKey is the platform key cfg names, as its provider names it:
// recordings without a customer key, fallbacks, and the JWT and audit
// signing keys are wrapped under it.
func PlatformKey(cfg *config.Config) kms.KeyRef {
	kind, _ := kms.KindOfConfig(cfg.KMS.Platform.Provider) // config validation refused any other
	return kms.KeyRef{Provider: kind.Name, KeyID: cfg.KMS.Platform.KeyID}
}

// EnsurePlatformKey creates the platform key in the local keyring ring on
// first start (the trial default). A platform key in AWS KMS or the HSM is
// never created here: it is the operator's, and it must answer now — a
// gateway that cannot reach it refuses to start rather than run on
// something else.
func EnsurePlatformKey(ctx context.Context, cfg *config.Config, reg kms.Registry, ring *local.Keyring) error {
	ref := PlatformKey(cfg)
	if ref.Provider == local.ProviderName {
		if err := ring.EnsureKey(ref.KeyID); err != nil {
			return fmt.Errorf("platform key: %w", err)
		}
		return nil
	}
	p, ok := reg.ByName(ref.Provider)
	if !ok {
		return fmt.Errorf("kms.platform.provider %s: provider %q is not open", cfg.KMS.Platform.Provider, ref.Provider)
	}
	// A KMS that hangs is refused like one that answers no: bounded.
	ctx, cancel := context.WithTimeout(ctx, max(4*cfg.KMS.Timeout.D(), 2*time.Second))
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
