package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// QuorumRule is the stored quorum of one gated operation (migration
// 0005). The shared store is the one source of the rules: every gateway
// on the database reads them from here.
type QuorumRule struct {
	Operation     string
	Approvals     int
	Of            int
	EligibleRoles []string
	Delay         time.Duration
	Vetoers       []string
	// PlatformPlayback (recording.playback only) makes playback of
	// platform-key recordings need the quorum too.
	PlatformPlayback bool
	Version          int64
	UpdatedAt        time.Time
	UpdatedBy        string
	// ApprovalID is the ceremony.quorum proposal that set the rule; empty
	// for the rules seeded on first start.
	ApprovalID string
}

const quorumColumns = `operation, approvals, of_count, eligible_roles, delay_ns, vetoers, platform_playback,
	version, updated_at, updated_by, approval_id`

func scanQuorumRule(sc scanner) (QuorumRule, error) {
	var r QuorumRule
	var roles, vetoers string
	var delay, updated int64
	if err := sc.Scan(&r.Operation, &r.Approvals, &r.Of, &roles, &delay, &vetoers, &r.PlatformPlayback,
		&r.Version, &updated, &r.UpdatedBy, &r.ApprovalID); err != nil {
		return QuorumRule{}, err
	}
	r.EligibleRoles, r.Vetoers = splitRoles(roles), splitRoles(vetoers)
	r.Delay, r.UpdatedAt = time.Duration(delay), time.Unix(0, updated).UTC()
	return r, nil
}

// ListQuorumRules returns every stored rule by operation; an empty list
// means the store was never seeded.
func (s *SQL) ListQuorumRules(ctx context.Context) ([]QuorumRule, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+quorumColumns+` FROM quorum_rules ORDER BY operation`)
	if err != nil {
		return nil, fmt.Errorf("store: list quorum rules: %w", err)
	}
	defer rows.Close()
	out := []QuorumRule{}
	for rows.Next() {
		r, err := scanQuorumRule(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list quorum rules: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list quorum rules: %w", err)
	}
	return out, nil
}

// SeedQuorumRules writes rules as version 1 if the store holds no rule
// yet, all in one transaction. It reports false, and writes nothing, when
// rules exist: another gateway seeded them first (even at the same
// moment: the primary key makes the second transaction fail).
func (s *SQL) SeedQuorumRules(ctx context.Context, rules []QuorumRule, by string) (bool, error) {
	if len(rules) == 0 {
		return false, fmt.Errorf("%w: no quorum rules to seed", ErrInvalid)
	}
	now := s.now().UTC()
	seeded := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM quorum_rules`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		for _, r := range rules {
			if r.Operation == "" {
				return fmt.Errorf("%w: quorum rule without an operation", ErrInvalid)
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO quorum_rules (`+quorumColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, '')`),
				r.Operation, r.Approvals, r.Of, joinRoles(r.EligibleRoles), int64(r.Delay), joinRoles(r.Vetoers),
				r.PlatformPlayback, now.UnixNano(), by); err != nil {
				return err
			}
		}
		seeded = true
		return nil
	})
	if isUniqueViolation(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: seed quorum rules: %w", err)
	}
	return seeded, nil
}

// AddQuorumRules stores the rules of operations the store has no rule
// for yet (an operation a newer gateway introduced, on a store seeded by
// an older one) and returns their names. Stored rules are never touched:
// a rule changes only by a ceremony.quorum proposal.
func (s *SQL) AddQuorumRules(ctx context.Context, rules []QuorumRule, by string) ([]string, error) {
	var added []string
	now := s.now().UTC()
	for _, r := range rules {
		if r.Operation == "" {
			return added, fmt.Errorf("%w: quorum rule without an operation", ErrInvalid)
		}
		res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO quorum_rules (`+quorumColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, '')
			ON CONFLICT (operation) DO NOTHING`),
			r.Operation, r.Approvals, r.Of, joinRoles(r.EligibleRoles), int64(r.Delay), joinRoles(r.Vetoers),
			r.PlatformPlayback, now.UnixNano(), by)
		if err != nil {
			return added, fmt.Errorf("store: add quorum rule %s: %w", r.Operation, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			added = append(added, r.Operation)
		}
	}
	return added, nil
}

// UpdateQuorumRule replaces the rule of r.Operation if its stored version
// is still r.Version (ErrConflict otherwise: it changed since the caller
// read it; ErrNotFound if the operation has no rule). It returns the rule
// as stored, with the next version.
func (s *SQL) UpdateQuorumRule(ctx context.Context, r QuorumRule) (QuorumRule, error) {
	now := s.now().UTC()
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE quorum_rules SET approvals = ?, of_count = ?, eligible_roles = ?,
		delay_ns = ?, vetoers = ?, platform_playback = ?, version = version + 1, updated_at = ?, updated_by = ?, approval_id = ?
		WHERE operation = ? AND version = ?`),
		r.Approvals, r.Of, joinRoles(r.EligibleRoles), int64(r.Delay), joinRoles(r.Vetoers), r.PlatformPlayback,
		now.UnixNano(), r.UpdatedBy, r.ApprovalID, r.Operation, r.Version)
	if err != nil {
		return QuorumRule{}, fmt.Errorf("store: update quorum rule %s: %w", r.Operation, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return QuorumRule{}, fmt.Errorf("store: update quorum rule %s: %w", r.Operation, err)
	} else if n == 0 {
		cur, err := s.getQuorumRule(ctx, r.Operation)
		if err != nil {
			return QuorumRule{}, err
		}
		return QuorumRule{}, fmt.Errorf("%w: quorum rule %s is at version %d, not %d", ErrConflict, r.Operation, cur.Version, r.Version)
	}
	return s.getQuorumRule(ctx, r.Operation)
}

func (s *SQL) getQuorumRule(ctx context.Context, op string) (QuorumRule, error) {
	r, err := scanQuorumRule(s.db.QueryRowContext(ctx, s.q(`SELECT `+quorumColumns+` FROM quorum_rules WHERE operation = ?`), op))
	if err == sql.ErrNoRows {
		return QuorumRule{}, fmt.Errorf("%w: quorum rule %s", ErrNotFound, op)
	}
	if err != nil {
		return QuorumRule{}, fmt.Errorf("store: quorum rule %s: %w", op, err)
	}
	return r, nil
}
