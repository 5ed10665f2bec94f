package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/google/uuid"
)

// Subscription states.
const (
	SubscriptionActive = "ACTIVE"
	SubscriptionPaused = "PAUSED"
)

// Subscription is one webhook endpoint. Secrets are returned by
// CreateSubscription and RotateSecret only; reads leave them empty.
type Subscription struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Types       []string  `json:"types"`
	SeeCaller   bool      `json:"seeCaller"`
	State       string    `json:"state"`
	Description string    `json:"description,omitempty"`
	CreatedBy   string    `json:"createdBy,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	// Rotating is true while a previous secret still signs.
	Rotating bool `json:"rotating"`
	// Secret is the current secret ("whsec_..."), set only in the answer
	// to a create or a rotation.
	Secret string `json:"secret,omitempty"`
}

func (o *Outbox) checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: subscription url %q is not an absolute URL", ErrInvalid, raw)
	}
	if u.User != nil {
		return fmt.Errorf("%w: subscription url must not carry credentials", ErrInvalid)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && o.AllowHTTP:
	default:
		return fmt.Errorf("%w: subscription url scheme %q: want https", ErrInvalid, u.Scheme)
	}
	return nil
}

func checkState(s string) error {
	if s != SubscriptionActive && s != SubscriptionPaused {
		return fmt.Errorf("%w: subscription state %q: want %s or %s", ErrInvalid, s, SubscriptionActive, SubscriptionPaused)
	}
	return nil
}

// CreateSubscription stores s with a new secret and returns it with the
// secret. An empty State is ACTIVE.
func (o *Outbox) CreateSubscription(ctx context.Context, s Subscription) (Subscription, error) {
	if s.State == "" {
		s.State = SubscriptionActive
	}
	if err := o.checkURL(s.URL); err != nil {
		return Subscription{}, err
	}
	if err := validTypes(s.Types); err != nil {
		return Subscription{}, err
	}
	if err := checkState(s.State); err != nil {
		return Subscription{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Subscription{}, fmt.Errorf("events: new id: %w", err)
	}
	secret, stored, err := o.newSecret(ctx, id.String())
	if err != nil {
		return Subscription{}, err
	}
	now := o.now().UTC()
	s.ID, s.Secret, s.CreatedAt, s.UpdatedAt, s.Rotating = id.String(), secret, now, now, false
	if _, err := o.db.ExecContext(ctx, o.q(`INSERT INTO event_subscriptions
		(id, url, types, secret, secret_prev, see_caller, state, description, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?)`),
		s.ID, s.URL, joinTypes(s.Types), stored, boolInt(s.SeeCaller), s.State, s.Description, s.CreatedBy,
		now.UnixNano(), now.UnixNano()); err != nil {
		return Subscription{}, fmt.Errorf("events: create subscription: %w", err)
	}
	return s, nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

const subColumns = `id, url, types, secret_prev, see_caller, state, description, created_by, created_at, updated_at`

func scanSub(sc interface{ Scan(...any) error }) (Subscription, error) {
	var s Subscription
	var types, prev string
	var see, created, updated int64
	if err := sc.Scan(&s.ID, &s.URL, &types, &prev, &see, &s.State, &s.Description, &s.CreatedBy, &created, &updated); err != nil {
		return Subscription{}, err
	}
	s.Types, s.SeeCaller, s.Rotating = splitTypes(types), see != 0, prev != ""
	s.CreatedAt, s.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	return s, nil
}

// GetSubscription returns one subscription (without its secrets).
func (o *Outbox) GetSubscription(ctx context.Context, id string) (Subscription, error) {
	s, err := scanSub(o.db.QueryRowContext(ctx, o.q(`SELECT `+subColumns+` FROM event_subscriptions WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Subscription{}, fmt.Errorf("%w: subscription %s", ErrNotFound, id)
	}
	if err != nil {
		return Subscription{}, fmt.Errorf("events: get subscription %s: %w", id, err)
	}
	return s, nil
}

// ListSubscriptions lists every subscription by id.
func (o *Outbox) ListSubscriptions(ctx context.Context) ([]Subscription, error) {
	rows, err := o.db.QueryContext(ctx, `SELECT `+subColumns+` FROM event_subscriptions ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("events: list subscriptions: %w", err)
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		s, err := scanSub(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// UpdateSubscription replaces url, types, seeCaller, state and
// description of s.ID.
func (o *Outbox) UpdateSubscription(ctx context.Context, s Subscription) (Subscription, error) {
	if err := o.checkURL(s.URL); err != nil {
		return Subscription{}, err
	}
	if err := validTypes(s.Types); err != nil {
		return Subscription{}, err
	}
	if err := checkState(s.State); err != nil {
		return Subscription{}, err
	}
	res, err := o.db.ExecContext(ctx, o.q(`UPDATE event_subscriptions SET url = ?, types = ?, see_caller = ?, state = ?,
		description = ?, updated_at = ? WHERE id = ?`),
		s.URL, joinTypes(s.Types), boolInt(s.SeeCaller), s.State, s.Description, o.now().UnixNano(), s.ID)
	if err != nil {
		return Subscription{}, fmt.Errorf("events: update subscription %s: %w", s.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Subscription{}, fmt.Errorf("%w: subscription %s", ErrNotFound, s.ID)
	}
	return o.GetSubscription(ctx, s.ID)
}

// DeleteSubscription deletes a subscription and its delivery rows.
func (o *Outbox) DeleteSubscription(ctx context.Context, id string) error {
	return o.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, o.q(`DELETE FROM event_subscriptions WHERE id = ?`), id)
		if err != nil {
			return fmt.Errorf("events: delete subscription %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: subscription %s", ErrNotFound, id)
		}
		_, err = tx.ExecContext(ctx, o.q(`DELETE FROM event_deliveries WHERE subscription_id = ?`), id)
		return err
	})
}

// RotateSecret starts a rotation: a new secret signs from now on and the
// current one keeps signing too (two signatures per webhook) until
// EndRotation, so receivers can switch at their pace. Rotating again while
// rotating drops the oldest secret. It returns the new secret.
func (o *Outbox) RotateSecret(ctx context.Context, id string) (Subscription, error) {
	secret, stored, err := o.newSecret(ctx, id)
	if err != nil {
		return Subscription{}, err
	}
	res, err := o.db.ExecContext(ctx, o.q(`UPDATE event_subscriptions SET secret_prev = secret, secret = ?, updated_at = ?
		WHERE id = ?`), stored, o.now().UnixNano(), id)
	if err != nil {
		return Subscription{}, fmt.Errorf("events: rotate secret of %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Subscription{}, fmt.Errorf("%w: subscription %s", ErrNotFound, id)
	}
	s, err := o.GetSubscription(ctx, id)
	s.Secret = secret
	return s, err
}

// EndRotation stops signing with the previous secret.
func (o *Outbox) EndRotation(ctx context.Context, id string) (Subscription, error) {
	res, err := o.db.ExecContext(ctx, o.q(`UPDATE event_subscriptions SET secret_prev = '', updated_at = ? WHERE id = ?`),
		o.now().UnixNano(), id)
	if err != nil {
		return Subscription{}, fmt.Errorf("events: end rotation of %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Subscription{}, fmt.Errorf("%w: subscription %s", ErrNotFound, id)
	}
	return o.GetSubscription(ctx, id)
}
