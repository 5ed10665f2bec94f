package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Server key purposes.
const (
	KeyPurposeTokenSigning = "token-signing"
	KeyPurposeAuditSigning = "audit-signing"
	KeyPurposeSecretPepper = "secret-pepper"
)

// ServerKey is a key the control plane itself uses (token signing, audit
// checkpoints, the client-secret pepper). Its seed is stored only wrapped
// under a KMS key (KeyProvider, KeyID); PublicKey is set for signing keys.
type ServerKey struct {
	Kid         string
	Purpose     string
	PublicKey   []byte
	WrappedSeed []byte
	KeyProvider string
	KeyID       string
	CreatedAt   time.Time
	// RetiredAt is non-zero once the key no longer signs; it still
	// verifies what it signed.
	RetiredAt time.Time
}

const serverKeyColumns = `kid, purpose, public_key, wrapped_seed, key_provider, key_id, created_at, retired_at`

// CreateServerKey stores k; ErrDuplicate if its kid exists.
func (s *SQL) CreateServerKey(ctx context.Context, k ServerKey) (ServerKey, error) {
	if k.Kid == "" || k.Purpose == "" || len(k.WrappedSeed) == 0 {
		return ServerKey{}, fmt.Errorf("%w: server key needs kid, purpose and wrapped seed", ErrInvalid)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now().UTC()
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO server_keys (`+serverKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		k.Kid, k.Purpose, k.PublicKey, k.WrappedSeed, k.KeyProvider, k.KeyID, k.CreatedAt.UnixNano(), nanos(k.RetiredAt))
	if isUniqueViolation(err) {
		return ServerKey{}, fmt.Errorf("%w: server key %s", ErrDuplicate, k.Kid)
	}
	if err != nil {
		return ServerKey{}, fmt.Errorf("store: create server key %s: %w", k.Kid, err)
	}
	return k, nil
}

// ListServerKeys returns the keys of a purpose, oldest first.
func (s *SQL) ListServerKeys(ctx context.Context, purpose string) ([]ServerKey, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+serverKeyColumns+` FROM server_keys WHERE purpose = ? ORDER BY created_at, kid`), purpose)
	if err != nil {
		return nil, fmt.Errorf("store: list server keys: %w", err)
	}
	defer rows.Close()
	var out []ServerKey
	for rows.Next() {
		var k ServerKey
		var created int64
		var retired sql.NullInt64
		if err := rows.Scan(&k.Kid, &k.Purpose, &k.PublicKey, &k.WrappedSeed, &k.KeyProvider, &k.KeyID, &created, &retired); err != nil {
			return nil, fmt.Errorf("store: list server keys: %w", err)
		}
		k.CreatedAt, k.RetiredAt = time.Unix(0, created).UTC(), fromNanos(retired)
		out = append(out, k)
	}
	return out, rows.Err()
}

// RetireServerKey marks a key as no longer signing (idempotent).
func (s *SQL) RetireServerKey(ctx context.Context, kid string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE server_keys SET retired_at = COALESCE(retired_at, ?) WHERE kid = ?`), at.UnixNano(), kid)
	if err != nil {
		return fmt.Errorf("store: retire server key %s: %w", kid, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: server key %s", ErrNotFound, kid)
	}
	return nil
}
