package controlplane

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/mediaseal/mediaseal/ceremony/events"
	"github.com/mediaseal/mediaseal/kms"
)

// wrappedSecretPrefix marks a subscription secret stored wrapped under
// the platform key.
const wrappedSecretPrefix = "kms:"

// webhookSecrets keeps webhook subscription secrets wrapped under the
// platform key (events.SecretKeeper), bound to their subscription by the
// KMS context: the database holder can neither read a secret to forge
// signed events nor move one to another subscription.
type webhookSecrets struct {
	provider kms.Provider
	key      kms.KeyRef
}

var _ events.SecretKeeper = webhookSecrets{}

func secretContext(id string) kms.EncryptionContext {
	return kms.EncryptionContext{"purpose": "mediaseal/webhook-secret", "subscription": id}
}

// New makes the secret from a data key's plaintext, so the secret exists
// in the clear only in this process and in the answer that returns it.
func (w webhookSecrets) New(ctx context.Context, id string) (string, string, error) {
	dk, err := w.provider.GenerateDataKey(ctx, w.key, secretContext(id))
	if err != nil {
		return "", "", err
	}
	defer dk.Wipe()
	if len(dk.Plaintext) < 24 {
		return "", "", fmt.Errorf("data key of %d bytes is too short for a webhook secret", len(dk.Plaintext))
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(dk.Plaintext), wrappedSecretPrefix + base64.StdEncoding.EncodeToString(dk.Wrapped), nil
}

func (w webhookSecrets) Open(ctx context.Context, id, stored string) (string, error) {
	b64, ok := strings.CutPrefix(stored, wrappedSecretPrefix)
	if !ok {
		return "", errors.New("not a wrapped secret")
	}
	wrapped, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", errors.New("wrapped secret is not base64")
	}
	plain, err := w.provider.Unwrap(ctx, w.key, wrapped, secretContext(id))
	if err != nil {
		return "", err
	}
	defer clear(plain)
	return "whsec_" + base64.StdEncoding.EncodeToString(plain), nil
}
