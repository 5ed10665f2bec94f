package local

import (
	"context"

	"github.com/mediaseal/mediaseal/kms"
)

// Disable implements kms.Disabler: the key neither generates, unwraps nor
// rewraps until Enable. The state survives a restart (a marker file).
func (k *Keyring) Disable(_ context.Context, ref kms.KeyRef) error {
	if err := k.checkRef(ref); err != nil {
		return err
	}
	return k.SetDisabled(ref.KeyID, true)
}

// Enable implements kms.Disabler.
func (k *Keyring) Enable(_ context.Context, ref kms.KeyRef) error {
	if err := k.checkRef(ref); err != nil {
		return err
	}
	return k.SetDisabled(ref.KeyID, false)
}
