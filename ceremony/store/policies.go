package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mediaseal/mediaseal/policy"
)

// encodePolicy stores a policy body without its id and version, which live
// in their own columns.
func encodePolicy(p policy.Policy) (string, error) {
	p.ID, p.Version = "", 0
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("store: encode policy: %w", err)
	}
	return string(b), nil
}

// CreatePolicy stores a new policy as version 1.
func (s *SQL) CreatePolicy(ctx context.Context, p policy.Policy) (StoredPolicy, error) {
	if p.ID == "" {
		p.ID = NewID()
	}
	body, err := encodePolicy(p)
	if err != nil {
		return StoredPolicy{}, err
	}
	now := s.now()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO policies (id, current_version, created_at, updated_at)
			VALUES (?, 1, ?, ?)`), p.ID, now.UnixNano(), now.UnixNano()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO policy_versions (policy_id, version, body, created_at)
			VALUES (?, 1, ?, ?)`), p.ID, body, now.UnixNano())
		return err
	})
	if isUniqueViolation(err) {
		return StoredPolicy{}, fmt.Errorf("%w: policy %s", ErrDuplicate, p.ID)
	}
	if err != nil {
		return StoredPolicy{}, fmt.Errorf("store: create policy %s: %w", p.ID, err)
	}
	p.Version = 1
	return StoredPolicy{Policy: p, CreatedAt: now.UTC(), UpdatedAt: now.UTC()}, nil
}

const policySelect = `SELECT p.id, v.version, v.body, p.created_at, v.created_at, p.deleted_at
	FROM policies p JOIN policy_versions v ON v.policy_id = p.id`

// GetPolicy returns the current version of a live policy.
func (s *SQL) GetPolicy(ctx context.Context, id string) (StoredPolicy, error) {
	row := s.db.QueryRowContext(ctx, s.q(policySelect+
		` WHERE p.id = ? AND v.version = p.current_version AND p.deleted_at IS NULL`), id)
	sp, err := scanPolicy(row)
	if errors.Is(err, sql.ErrNoRows) {
		return StoredPolicy{}, fmt.Errorf("%w: policy %s", ErrNotFound, id)
	}
	if err != nil {
		return StoredPolicy{}, fmt.Errorf("store: get policy %s: %w", id, err)
	}
	return sp, nil
}

// GetPolicyVersion returns one version of a policy, even a deleted one.
func (s *SQL) GetPolicyVersion(ctx context.Context, id string, version int64) (StoredPolicy, error) {
	row := s.db.QueryRowContext(ctx, s.q(policySelect+` WHERE p.id = ? AND v.version = ?`), id, version)
	sp, err := scanPolicy(row)
	if errors.Is(err, sql.ErrNoRows) {
		return StoredPolicy{}, fmt.Errorf("%w: policy %s version %d", ErrNotFound, id, version)
	}
	if err != nil {
		return StoredPolicy{}, fmt.Errorf("store: get policy %s version %d: %w", id, version, err)
	}
	return sp, nil
}

// ListPolicies returns the current version of every live policy.
func (s *SQL) ListPolicies(ctx context.Context) ([]StoredPolicy, error) {
	return s.listPolicies(ctx, policySelect+
		` WHERE v.version = p.current_version AND p.deleted_at IS NULL ORDER BY p.id`)
}

// ListPolicyVersions returns the history of one policy.
func (s *SQL) ListPolicyVersions(ctx context.Context, id string) ([]StoredPolicy, error) {
	out, err := s.listPolicies(ctx, policySelect+` WHERE p.id = ? ORDER BY v.version`, id)
	if err == nil && len(out) == 0 {
		return nil, fmt.Errorf("%w: policy %s", ErrNotFound, id)
	}
	return out, err
}

func (s *SQL) listPolicies(ctx context.Context, query string, args ...any) ([]StoredPolicy, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list policies: %w", err)
	}
	defer rows.Close()
	out := []StoredPolicy{}
	for rows.Next() {
		sp, err := scanPolicy(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list policies: %w", err)
		}
		out = append(out, sp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list policies: %w", err)
	}
	return out, nil
}

// UpdatePolicy writes the next version of a policy if nobody else did first.
func (s *SQL) UpdatePolicy(ctx context.Context, p policy.Policy, expectedVersion int64) (StoredPolicy, error) {
	if p.ID == "" {
		return StoredPolicy{}, fmt.Errorf("%w: policy id is empty", ErrInvalid)
	}
	body, err := encodePolicy(p)
	if err != nil {
		return StoredPolicy{}, err
	}
	now := s.now()
	var created int64
	err = s.tx(ctx, func(tx *sql.Tx) error {
		// The conditional UPDATE is the concurrency check: on PostgreSQL a
		// concurrent writer blocks on the row and then sees the bumped
		// version; on SQLite writers are serialised by BEGIN IMMEDIATE.
		res, err := tx.ExecContext(ctx, s.q(`UPDATE policies SET current_version = current_version + 1, updated_at = ?
			WHERE id = ? AND current_version = ? AND deleted_at IS NULL`), now.UnixNano(), p.ID, expectedVersion)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return s.policyConflict(ctx, tx, p.ID, expectedVersion)
		}
		if err := tx.QueryRowContext(ctx, s.q(`SELECT created_at FROM policies WHERE id = ?`), p.ID).Scan(&created); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO policy_versions (policy_id, version, body, created_at)
			VALUES (?, ?, ?, ?)`), p.ID, expectedVersion+1, body, now.UnixNano())
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
			return StoredPolicy{}, err
		}
		return StoredPolicy{}, fmt.Errorf("store: update policy %s: %w", p.ID, err)
	}
	p.Version = expectedVersion + 1
	return StoredPolicy{Policy: p, CreatedAt: time.Unix(0, created).UTC(), UpdatedAt: now.UTC()}, nil
}

// DeletePolicy soft-deletes a policy: its versions stay readable.
func (s *SQL) DeletePolicy(ctx context.Context, id string, expectedVersion int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		query := `UPDATE policies SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL`
		now := s.now().UnixNano()
		args := []any{now, now, id}
		if expectedVersion != 0 {
			query += ` AND current_version = ?`
			args = append(args, expectedVersion)
		}
		res, err := tx.ExecContext(ctx, s.q(query), args...)
		if err != nil {
			return fmt.Errorf("store: delete policy %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return s.policyConflict(ctx, tx, id, expectedVersion)
		}
		return nil
	})
}

// policyConflict explains why a conditional policy write matched no row.
func (s *SQL) policyConflict(ctx context.Context, tx *sql.Tx, id string, expected int64) error {
	var cur int64
	var deleted sql.NullInt64
	err := tx.QueryRowContext(ctx, s.q(`SELECT current_version, deleted_at FROM policies WHERE id = ?`), id).Scan(&cur, &deleted)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && deleted.Valid) {
		return fmt.Errorf("%w: policy %s", ErrNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("store: policy %s: %w", id, err)
	}
	return fmt.Errorf("%w: policy %s is at version %d, not %d", ErrConflict, id, cur, expected)
}

func scanPolicy(sc scanner) (StoredPolicy, error) {
	var sp StoredPolicy
	var id, body string
	var version, created, updated int64
	var deleted sql.NullInt64
	if err := sc.Scan(&id, &version, &body, &created, &updated, &deleted); err != nil {
		return StoredPolicy{}, err
	}
	if err := json.Unmarshal([]byte(body), &sp.Policy); err != nil {
		return StoredPolicy{}, fmt.Errorf("policy %s version %d: corrupt body: %w", id, version, err)
	}
	sp.ID, sp.Version = id, version
	sp.CreatedAt = time.Unix(0, created).UTC()
	sp.UpdatedAt = time.Unix(0, updated).UTC()
	sp.DeletedAt = fromNanos(deleted)
	return sp, nil
}
