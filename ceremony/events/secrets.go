package events

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// SecretKeeper keeps subscription secrets out of the database: New makes
// a subscription's secret and the form to store (wrapped under a key the
// database holder does not have), Open reads a stored form back. Without
// one the outbox stores secrets as they are.
type SecretKeeper interface {
	New(ctx context.Context, subscriptionID string) (secret, stored string, err error)
	Open(ctx context.Context, subscriptionID, stored string) (string, error)
}

// newSecret makes a secret for subscription id and the form to store.
func (o *Outbox) newSecret(ctx context.Context, id string) (secret, stored string, err error) {
	if o.Secrets == nil {
		s, err := NewSecret()
		return s, s, err
	}
	secret, stored, err = o.Secrets.New(ctx, id)
	if err != nil {
		return "", "", fmt.Errorf("events: new secret of %s: %w", id, err)
	}
	return secret, stored, nil
}

// openSecret reads a stored secret back. A plain "whsec_" secret (stored
// before secrets were wrapped, or without a keeper) is its own form.
// Opened secrets are kept per stored form: a wrapped one is unwrapped once
// per worker, not at every delivery.
func (o *Outbox) openSecret(ctx context.Context, id, stored string) (string, error) {
	if stored == "" || strings.HasPrefix(stored, secretPrefix) {
		return stored, nil
	}
	if o.Secrets == nil {
		return "", fmt.Errorf("events: the secret of %s is wrapped and this gateway has no key to open it", id)
	}
	key := id + "\x00" + stored
	if v, ok := o.opened.Load(key); ok {
		return v.(string), nil
	}
	s, err := o.Secrets.Open(ctx, id, stored)
	if err != nil {
		return "", fmt.Errorf("events: open the secret of %s: %w", id, err)
	}
	o.opened.Store(key, s)
	return s, nil
}

// openedSecrets is the cache of openSecret.
type openedSecrets = sync.Map
