package playback

import (
	"context"
	"fmt"

	"github.com/mediaseal/mediaseal/kms"
)

// checkKeyUsable refuses to export recording id, before any KMS call, when
// the key registry (read now, not a periodically refreshed copy) holds its
// key as anything but ENABLED: a key the ceremony disabled or scheduled
// for deletion decrypts nothing through mediaseal, whatever its KMS still
// answers. A registry that cannot be read refuses.
func (s *Service) checkKeyUsable(ctx context.Context, id string, rec Entry) error {
	if rec.KeyProvider == "" || (kms.KeyRef{Provider: rec.KeyProvider, KeyID: rec.KeyID}) == s.d.Platform {
		return nil // no envelope yet, or the platform key: never disabled
	}
	kid, state, err := s.d.Index.KeyNotEnabled(ctx, rec.KeyProvider, rec.KeyID)
	if err != nil {
		return fmt.Errorf("recording %s: reading the key registry: %w", id, err)
	}
	if state != "" {
		return fmt.Errorf("%w: recording %s is under key %s, which is %s in the key registry", kms.ErrDisabled, id, kid, state)
	}
	return nil
}
