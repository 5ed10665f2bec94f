package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

const keyColumns = `id, name, key_type, region, ref, description, state, encryption_type,
	auto_rotate, rotation_period_days, bind_status, bind_checked_at, bound_at,
	kms_state, kms_region, kms_version, bind_error, version, created_at, updated_at`

// CreateKey registers a key reference.
func (s *SQL) CreateKey(ctx context.Context, k Key) (Key, error) {
	if k.ID == "" {
		k.ID = NewID()
	}
	if k.Name == "" || k.KeyType == "" || k.Ref == "" || k.State == "" {
		return Key{}, fmt.Errorf("%w: key needs name, keyType, reference and state", ErrInvalid)
	}
	now := s.now().UTC()
	k.Version, k.CreatedAt, k.UpdatedAt = 1, now, now
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO kms_keys (`+keyColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		k.ID, k.Name, k.KeyType, k.Region, k.Ref, k.Description, k.State, k.EncryptionType,
		k.Rotation.AutoRotate, int64(k.Rotation.PeriodDays), k.Binding.Status, nanos(k.Binding.CheckedAt),
		nanos(k.Binding.BoundAt), k.Binding.KMSState, k.Binding.KMSRegion, k.Binding.KMSVersion,
		k.Binding.Error, k.Version, now.UnixNano(), now.UnixNano())
	if isUniqueViolation(err) {
		return Key{}, fmt.Errorf("%w: key id %s or name %q", ErrDuplicate, k.ID, k.Name)
	}
	if err != nil {
		return Key{}, fmt.Errorf("store: create key %s: %w", k.ID, err)
	}
	return k, nil
}

// GetKey returns one key.
func (s *SQL) GetKey(ctx context.Context, id string) (Key, error) {
	k, err := scanKey(s.db.QueryRowContext(ctx, s.q(`SELECT `+keyColumns+` FROM kms_keys WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, fmt.Errorf("%w: key %s", ErrNotFound, id)
	}
	if err != nil {
		return Key{}, fmt.Errorf("store: get key %s: %w", id, err)
	}
	return k, nil
}

// ListKeys returns every registered key by name.
func (s *SQL) ListKeys(ctx context.Context) ([]Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM kms_keys ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("store: list keys: %w", err)
	}
	defer rows.Close()
	out := []Key{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list keys: %w", err)
	}
	return out, nil
}

// UpdateKeyBinding records a bind handshake result. A failed handshake
// keeps the time of the last successful bind.
func (s *SQL) UpdateKeyBinding(ctx context.Context, id string, b Binding) (Key, error) {
	if b.Status != BindingBound && b.Status != BindingFailed {
		return Key{}, fmt.Errorf("%w: binding status %q", ErrInvalid, b.Status)
	}
	if b.CheckedAt.IsZero() {
		b.CheckedAt = s.now()
	}
	if b.Status == BindingBound && b.BoundAt.IsZero() {
		b.BoundAt = b.CheckedAt
	}
	return s.updateKey(ctx, id, `bind_status = ?, bind_checked_at = ?, bound_at = COALESCE(?, bound_at),
		kms_state = ?, kms_region = ?, kms_version = ?, bind_error = ?`,
		b.Status, nanos(b.CheckedAt), nanos(b.BoundAt), b.KMSState, b.KMSRegion, b.KMSVersion, b.Error)
}

// UpdateKeyRotation sets the rotation settings of a key.
func (s *SQL) UpdateKeyRotation(ctx context.Context, id string, r Rotation) (Key, error) {
	if r.PeriodDays < 0 {
		return Key{}, fmt.Errorf("%w: rotation period %d days", ErrInvalid, r.PeriodDays)
	}
	return s.updateKey(ctx, id, `auto_rotate = ?, rotation_period_days = ?`, r.AutoRotate, int64(r.PeriodDays))
}

// UpdateKeyState sets the registered state of a key.
func (s *SQL) UpdateKeyState(ctx context.Context, id, state string) (Key, error) {
	if state == "" {
		return Key{}, fmt.Errorf("%w: empty key state", ErrInvalid)
	}
	return s.updateKey(ctx, id, `state = ?`, state)
}

// updateKey applies set (with args) to one key, bumps its version and
// returns the new row.
func (s *SQL) updateKey(ctx context.Context, id, set string, args ...any) (Key, error) {
	var k Key
	err := s.tx(ctx, func(tx *sql.Tx) error {
		args = append(args, s.now().UnixNano(), id)
		res, err := tx.ExecContext(ctx, s.q(`UPDATE kms_keys SET `+set+`, version = version + 1, updated_at = ? WHERE id = ?`), args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: key %s", ErrNotFound, id)
		}
		k, err = scanKey(tx.QueryRowContext(ctx, s.q(`SELECT `+keyColumns+` FROM kms_keys WHERE id = ?`), id))
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Key{}, fmt.Errorf("store: update key %s: %w", id, err)
	}
	return k, err
}

func scanKey(sc scanner) (Key, error) {
	var k Key
	var days, created, updated int64
	var checked, bound sql.NullInt64
	err := sc.Scan(&k.ID, &k.Name, &k.KeyType, &k.Region, &k.Ref, &k.Description, &k.State, &k.EncryptionType,
		&k.Rotation.AutoRotate, &days, &k.Binding.Status, &checked, &bound,
		&k.Binding.KMSState, &k.Binding.KMSRegion, &k.Binding.KMSVersion, &k.Binding.Error,
		&k.Version, &created, &updated)
	if err != nil {
		return Key{}, err
	}
	k.Rotation.PeriodDays = int(days)
	k.Binding.CheckedAt = fromNanos(checked)
	k.Binding.BoundAt = fromNanos(bound)
	k.CreatedAt = time.Unix(0, created).UTC()
	k.UpdatedAt = time.Unix(0, updated).UTC()
	return k, nil
}
