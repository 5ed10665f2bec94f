package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// KeyRotation is one rotation of a registered key.
type KeyRotation struct {
	KeyID string
	// Slot makes a rotation unique per key: a scheduled rotation uses the
	// time it became due, so two gateways cannot both rotate for it.
	Slot      int64
	Version   string
	Actor     string
	Reason    string // "scheduled", "on-demand", "observed"
	RotatedAt time.Time
}

// RecordKeyRotation stores r; ErrDuplicate if (KeyID, Slot) exists (another
// gateway claimed that rotation).
func (s *SQL) RecordKeyRotation(ctx context.Context, r KeyRotation) error {
	if r.KeyID == "" {
		return fmt.Errorf("%w: rotation needs a key id", ErrInvalid)
	}
	if r.RotatedAt.IsZero() {
		r.RotatedAt = s.now()
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO key_rotations (key_id, slot, version, actor, reason, rotated_at)
		VALUES (?, ?, ?, ?, ?, ?)`), r.KeyID, r.Slot, r.Version, r.Actor, r.Reason, r.RotatedAt.UnixNano())
	if isUniqueViolation(err) {
		return fmt.Errorf("%w: rotation %d of key %s", ErrDuplicate, r.Slot, r.KeyID)
	}
	if err != nil {
		return fmt.Errorf("store: record rotation of key %s: %w", r.KeyID, err)
	}
	return nil
}

// SetKeyRotationVersion fills in the version of a claimed rotation once the
// provider has answered.
func (s *SQL) SetKeyRotationVersion(ctx context.Context, keyID string, slot int64, version string) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE key_rotations SET version = ? WHERE key_id = ? AND slot = ?`), version, keyID, slot)
	if err != nil {
		return fmt.Errorf("store: rotation version of key %s: %w", keyID, err)
	}
	return nil
}

// DeleteKeyRotation removes a claimed rotation whose provider call failed,
// so that it is retried.
func (s *SQL) DeleteKeyRotation(ctx context.Context, keyID string, slot int64) error {
	_, err := s.db.ExecContext(ctx, s.q(`DELETE FROM key_rotations WHERE key_id = ? AND slot = ?`), keyID, slot)
	if err != nil {
		return fmt.Errorf("store: delete rotation of key %s: %w", keyID, err)
	}
	return nil
}

// LastKeyRotation returns the latest rotation of a key; ok is false if it
// was never rotated.
func (s *SQL) LastKeyRotation(ctx context.Context, keyID string) (r KeyRotation, ok bool, err error) {
	var at int64
	err = s.db.QueryRowContext(ctx, s.q(`SELECT key_id, slot, version, actor, reason, rotated_at FROM key_rotations
		WHERE key_id = ? ORDER BY rotated_at DESC, slot DESC LIMIT 1`), keyID).
		Scan(&r.KeyID, &r.Slot, &r.Version, &r.Actor, &r.Reason, &at)
	if err == sql.ErrNoRows {
		return KeyRotation{}, false, nil
	}
	if err != nil {
		return KeyRotation{}, false, fmt.Errorf("store: last rotation of key %s: %w", keyID, err)
	}
	r.RotatedAt = time.Unix(0, at).UTC()
	return r, true, nil
}
