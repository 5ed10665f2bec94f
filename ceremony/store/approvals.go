package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/events"
)

// Approval statuses.
const (
	ApprovalPending  = "PENDING"
	ApprovalApproved = "APPROVED"
	ApprovalVetoed   = "VETOED"
	ApprovalExpired  = "EXPIRED"
	ApprovalExecuted = "EXECUTED"
	// ApprovalScheduled: the quorum approved an operation with a delay;
	// the gateway runs it itself at ExecutableAt unless it is vetoed.
	ApprovalScheduled = "SCHEDULED"
	// ApprovalExecuting: a gateway claimed a due scheduled operation and
	// is running it (until LeaseUntil; a crashed gateway's claim lapses).
	ApprovalExecuting = "EXECUTING"
	// ApprovalFailed: a scheduled operation failed for good (LastError).
	ApprovalFailed = "FAILED"
)

// Approval is a quorum proposal. Canonical is the canonical JSON of what
// was proposed and Digest its SHA-256; approvers sign off on the digest.
type Approval struct {
	ID            string
	Operation     string
	Target        string
	Canonical     string
	Digest        string
	Proposer      string
	Required      int // M
	Pool          int // N: eligible principals when proposed
	EligibleRoles []string
	Status        string
	Delay         time.Duration
	CreatedAt     time.Time
	ExpiresAt     time.Time
	ApprovedAt    time.Time
	ExecutableAt  time.Time // ApprovedAt + Delay
	ExecuteBy     time.Time // end of the execution window
	ExecutedAt    time.Time
	ExecutedBy    string
	VetoedBy      string
	VetoReason    string
	Version       int64
	// Owner is the gateway executing a scheduled operation, until
	// LeaseUntil; Attempts counts its executions, LastError keeps the
	// reason of the last failed one.
	Owner      string
	LeaseUntil time.Time
	Attempts   int
	LastError  string
}

// ApprovalVote is one principal's approval of a proposal's digest.
type ApprovalVote struct {
	ApprovalID string
	Principal  string
	Roles      []string
	Digest     string
	At         time.Time
}

// ApprovalFilter selects proposals; zero fields do not filter.
type ApprovalFilter struct {
	Status, Operation, Target, Proposer string
	Limit                               int
	// After is the id of the last proposal of the previous page.
	After string
}

const approvalColumns = `id, operation, target, canonical, digest, proposer, required, pool, eligible_roles,
	status, delay_ns, created_at, expires_at, approved_at, executable_at, execute_by, executed_at, executed_by,
	vetoed_by, veto_reason, version, owner, lease_until, attempts, last_error`

// CreateApproval stores a new proposal (version 1).
func (s *SQL) CreateApproval(ctx context.Context, a Approval) (Approval, error) {
	if a.ID == "" {
		a.ID = NewID()
	}
	if a.Operation == "" || a.Canonical == "" || a.Digest == "" || a.Proposer == "" || a.Status == "" {
		return Approval{}, fmt.Errorf("%w: approval needs operation, canonical form, digest, proposer and status", ErrInvalid)
	}
	a.Version = 1
	// The proposal and its approval.requested event commit together.
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO approvals (`+approvalColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), approvalArgs(a)...); err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, approvalEvent(events.TypeApprovalRequested, a))
	})
	if isUniqueViolation(err) {
		return Approval{}, fmt.Errorf("%w: approval %s", ErrDuplicate, a.ID)
	}
	if err != nil {
		return Approval{}, fmt.Errorf("store: create approval: %w", err)
	}
	return a, nil
}

func approvalArgs(a Approval) []any {
	return []any{a.ID, a.Operation, a.Target, a.Canonical, a.Digest, a.Proposer, int64(a.Required), int64(a.Pool),
		strings.Join(a.EligibleRoles, ","), a.Status, int64(a.Delay), a.CreatedAt.UnixNano(), a.ExpiresAt.UnixNano(),
		nanos(a.ApprovedAt), nanos(a.ExecutableAt), nanos(a.ExecuteBy), nanos(a.ExecutedAt), a.ExecutedBy,
		a.VetoedBy, a.VetoReason, a.Version, a.Owner, nanos(a.LeaseUntil), int64(a.Attempts), a.LastError}
}

// GetApproval returns a proposal with its votes (oldest first).
func (s *SQL) GetApproval(ctx context.Context, id string) (Approval, []ApprovalVote, error) {
	var a Approval
	var votes []ApprovalVote
	err := s.readApproval(ctx, s.db, id, false, &a, &votes)
	return a, votes, err
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *SQL) readApproval(ctx context.Context, q querier, id string, lock bool, a *Approval, votes *[]ApprovalVote) error {
	query := `SELECT ` + approvalColumns + ` FROM approvals WHERE id = ?`
	if lock && s.dialect == DialectPostgres {
		query += ` FOR UPDATE`
	}
	got, err := scanApproval(q.QueryRowContext(ctx, s.q(query), id))
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: approval %s", ErrNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("store: get approval %s: %w", id, err)
	}
	*a = got
	rows, err := q.QueryContext(ctx, s.q(`SELECT approval_id, principal_id, roles, digest, at FROM approval_votes
		WHERE approval_id = ? ORDER BY at, principal_id`), id)
	if err != nil {
		return fmt.Errorf("store: approval votes %s: %w", id, err)
	}
	defer rows.Close()
	*votes = []ApprovalVote{}
	for rows.Next() {
		var v ApprovalVote
		var roles string
		var at int64
		if err := rows.Scan(&v.ApprovalID, &v.Principal, &roles, &v.Digest, &at); err != nil {
			return fmt.Errorf("store: approval votes %s: %w", id, err)
		}
		v.Roles, v.At = splitRoles(roles), time.Unix(0, at).UTC()
		*votes = append(*votes, v)
	}
	return rows.Err()
}

// UpdateApproval changes a proposal atomically: fn gets the current row
// and votes (locked against concurrent updates), may change the row and
// may return a vote to add. If fn fails nothing is written. A vote by a
// principal who already voted is ErrDuplicate.
func (s *SQL) UpdateApproval(ctx context.Context, id string, fn func(a *Approval, votes []ApprovalVote) (*ApprovalVote, error)) (Approval, error) {
	var out Approval
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var a Approval
		var votes []ApprovalVote
		if err := s.readApproval(ctx, tx, id, true, &a, &votes); err != nil {
			return err
		}
		prev, prevStatus := a.Version, a.Status
		vote, err := fn(&a, votes)
		if err != nil {
			return err
		}
		if vote != nil {
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO approval_votes (approval_id, principal_id, roles, digest, at) VALUES (?, ?, ?, ?, ?)`),
				id, vote.Principal, joinRoles(vote.Roles), vote.Digest, vote.At.UnixNano())
			if isUniqueViolation(err) {
				return fmt.Errorf("%w: %s already voted on approval %s", ErrDuplicate, vote.Principal, id)
			}
			if err != nil {
				return err
			}
		}
		a.Version = prev + 1
		res, err := tx.ExecContext(ctx, s.q(`UPDATE approvals SET status = ?, approved_at = ?, executable_at = ?, execute_by = ?,
			executed_at = ?, executed_by = ?, vetoed_by = ?, veto_reason = ?, expires_at = ?, owner = ?, lease_until = ?,
			attempts = ?, last_error = ?, version = ? WHERE id = ? AND version = ?`),
			a.Status, nanos(a.ApprovedAt), nanos(a.ExecutableAt), nanos(a.ExecuteBy), nanos(a.ExecutedAt), a.ExecutedBy,
			a.VetoedBy, a.VetoReason, a.ExpiresAt.UnixNano(), a.Owner, nanos(a.LeaseUntil), int64(a.Attempts), a.LastError,
			a.Version, id, prev)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: approval %s changed concurrently", ErrConflict, id)
		}
		out = a
		if typ := approvalTransition(prevStatus, a.Status); typ != "" {
			return s.appendEvents(ctx, tx, approvalEvent(typ, a))
		}
		return nil
	})
	if err != nil {
		return Approval{}, err
	}
	return out, nil
}

// ListApprovals returns proposals matching f ordered by id (time-ordered).
func (s *SQL) ListApprovals(ctx context.Context, f ApprovalFilter) ([]Approval, error) {
	var c conds
	c.addEq("status", f.Status)
	c.addEq("operation", f.Operation)
	c.addEq("target", f.Target)
	c.addEq("proposer", f.Proposer)
	if f.After != "" {
		c.add("id > ?", f.After)
	}
	return list(ctx, s, listQuery{what: "list approvals", columns: approvalColumns, table: "approvals",
		conds: c, order: "id", limit: f.Limit}, scanApproval)
}

func scanApproval(sc scanner) (Approval, error) {
	var a Approval
	var roles string
	var required, pool, delay, created, expires, attempts int64
	var approved, executable, executeBy, executed, lease sql.NullInt64
	err := sc.Scan(&a.ID, &a.Operation, &a.Target, &a.Canonical, &a.Digest, &a.Proposer, &required, &pool, &roles,
		&a.Status, &delay, &created, &expires, &approved, &executable, &executeBy, &executed, &a.ExecutedBy,
		&a.VetoedBy, &a.VetoReason, &a.Version, &a.Owner, &lease, &attempts, &a.LastError)
	if err != nil {
		return Approval{}, err
	}
	a.Required, a.Pool, a.Delay, a.Attempts = int(required), int(pool), time.Duration(delay), int(attempts)
	a.LeaseUntil = fromNanos(lease)
	a.EligibleRoles = splitRoles(roles)
	a.CreatedAt, a.ExpiresAt = time.Unix(0, created).UTC(), time.Unix(0, expires).UTC()
	a.ApprovedAt, a.ExecutableAt, a.ExecuteBy, a.ExecutedAt = fromNanos(approved), fromNanos(executable), fromNanos(executeBy), fromNanos(executed)
	return a, nil
}
