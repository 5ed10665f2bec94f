package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Principal kinds.
const (
	// PrincipalService is a service account: it authenticates with client
	// credentials and may run ceremonies.
	PrincipalService = "SERVICE"
	// PrincipalPersonal is a person's own session; it never runs a ceremony.
	PrincipalPersonal = "PERSONAL"
)

// Principal is an identity of the control plane with its roles. SecretHash
// is the encoded hash of its client secret, never the secret.
type Principal struct {
	ID         string
	Name       string
	Kind       string
	Roles      []string
	SecretHash string
	Disabled   bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

const principalColumns = `id, name, kind, roles, secret_hash, disabled, created_at, updated_at`

func joinRoles(roles []string) string {
	r := append([]string(nil), roles...)
	sort.Strings(r)
	return strings.Join(r, ",")
}

func splitRoles(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// CreatePrincipal inserts p; ErrDuplicate if its id exists.
func (s *SQL) CreatePrincipal(ctx context.Context, p Principal) (Principal, error) {
	if p.ID == "" || p.Kind == "" || p.SecretHash == "" {
		return Principal{}, fmt.Errorf("%w: principal needs id, kind and secret hash", ErrInvalid)
	}
	now := s.now().UTC()
	p.CreatedAt, p.UpdatedAt = now, now
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO principals (`+principalColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		p.ID, p.Name, p.Kind, joinRoles(p.Roles), p.SecretHash, p.Disabled, now.UnixNano(), now.UnixNano())
	if isUniqueViolation(err) {
		return Principal{}, fmt.Errorf("%w: principal %s", ErrDuplicate, p.ID)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("store: create principal %s: %w", p.ID, err)
	}
	p.Roles = splitRoles(joinRoles(p.Roles))
	return p, nil
}

// GetPrincipal returns one principal or ErrNotFound.
func (s *SQL) GetPrincipal(ctx context.Context, id string) (Principal, error) {
	p, err := scanPrincipal(s.db.QueryRowContext(ctx, s.q(`SELECT `+principalColumns+` FROM principals WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, fmt.Errorf("%w: principal %s", ErrNotFound, id)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("store: get principal %s: %w", id, err)
	}
	return p, nil
}

// ListPrincipals returns every principal by id.
func (s *SQL) ListPrincipals(ctx context.Context) ([]Principal, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+principalColumns+` FROM principals ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: list principals: %w", err)
	}
	defer rows.Close()
	out := []Principal{}
	for rows.Next() {
		p, err := scanPrincipal(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list principals: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SetPrincipalRoles replaces the roles of a principal. The caller checks
// separation of duties first.
func (s *SQL) SetPrincipalRoles(ctx context.Context, id string, roles []string) error {
	return s.updatePrincipal(ctx, id, `roles = ?`, joinRoles(roles))
}

// SetPrincipalSecret replaces the secret hash of a principal (rotation).
func (s *SQL) SetPrincipalSecret(ctx context.Context, id, secretHash string) error {
	if secretHash == "" {
		return fmt.Errorf("%w: empty secret hash", ErrInvalid)
	}
	return s.updatePrincipal(ctx, id, `secret_hash = ?`, secretHash)
}

// SetPrincipalDisabled disables or re-enables a principal.
func (s *SQL) SetPrincipalDisabled(ctx context.Context, id string, disabled bool) error {
	return s.updatePrincipal(ctx, id, `disabled = ?`, disabled)
}

func (s *SQL) updatePrincipal(ctx context.Context, id, set string, args ...any) error {
	args = append(args, s.now().UnixNano(), id)
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE principals SET `+set+`, updated_at = ? WHERE id = ?`), args...)
	if err != nil {
		return fmt.Errorf("store: update principal %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: principal %s", ErrNotFound, id)
	}
	return nil
}

func scanPrincipal(sc scanner) (Principal, error) {
	var p Principal
	var roles string
	var created, updated int64
	if err := sc.Scan(&p.ID, &p.Name, &p.Kind, &roles, &p.SecretHash, &p.Disabled, &created, &updated); err != nil {
		return Principal{}, err
	}
	p.Roles = splitRoles(roles)
	p.CreatedAt, p.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	return p, nil
}

// RevokeToken records that the token jti (of principal, valid until
// expiresAt) is revoked. Revoking twice is a no-op.
func (s *SQL) RevokeToken(ctx context.Context, jti, principal, by string, expiresAt time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO revoked_tokens (jti, principal_id, expires_at, revoked_at, revoked_by)
		VALUES (?, ?, ?, ?, ?)`), jti, principal, expiresAt.UnixNano(), s.now().UnixNano(), by)
	if err != nil && !isUniqueViolation(err) {
		return fmt.Errorf("store: revoke token %s: %w", jti, err)
	}
	return nil
}

// TokenRevoked reports whether jti was revoked.
func (s *SQL) TokenRevoked(ctx context.Context, jti string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM revoked_tokens WHERE jti = ?`), jti).Scan(&n); err != nil {
		return false, fmt.Errorf("store: token revoked %s: %w", jti, err)
	}
	return n > 0, nil
}

// PurgeRevokedTokens forgets revocations of tokens that expired before t
// (they are refused for their expiry anyway).
func (s *SQL) PurgeRevokedTokens(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM revoked_tokens WHERE expires_at < ?`), t.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("store: purge revoked tokens: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
