package store

import (
	"context"
	"fmt"
	"time"
)

// DueApprovals returns up to limit scheduled proposals whose time has come
// at now, and proposals whose executing gateway's lease lapsed before now
// (it crashed or was cut off), oldest schedule first.
func (s *SQL) DueApprovals(ctx context.Context, now time.Time, limit int) ([]Approval, error) {
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	n := now.UnixNano()
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+approvalColumns+` FROM approvals
		WHERE (status = ? AND executable_at <= ?) OR (status = ? AND lease_until < ?)
		ORDER BY executable_at, id LIMIT `+fmt.Sprint(limit)), ApprovalScheduled, n, ApprovalExecuting, n)
	if err != nil {
		return nil, fmt.Errorf("store: due approvals: %w", err)
	}
	defer rows.Close()
	out := []Approval{}
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			return nil, fmt.Errorf("store: due approvals: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ClaimApproval gives the execution of proposal id to owner until
// leaseUntil, in one conditional UPDATE, so that of several gateways
// sharing the store exactly one wins: the proposal must be SCHEDULED and
// due at now, or EXECUTING under a lease that lapsed before now. It
// becomes EXECUTING with one more attempt. Anything else (another
// gateway's claim, a veto that came first, not yet due) is ErrConflict.
func (s *SQL) ClaimApproval(ctx context.Context, id, owner string, now, leaseUntil time.Time) (Approval, error) {
	if owner == "" || !leaseUntil.After(now) {
		return Approval{}, fmt.Errorf("%w: a claim needs an owner and a lease in the future", ErrInvalid)
	}
	n := now.UnixNano()
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE approvals SET status = ?, owner = ?, lease_until = ?,
		attempts = attempts + 1, version = version + 1
		WHERE id = ? AND ((status = ? AND executable_at <= ?) OR (status = ? AND lease_until < ?))`),
		ApprovalExecuting, owner, leaseUntil.UnixNano(), id, ApprovalScheduled, n, ApprovalExecuting, n)
	if err != nil {
		return Approval{}, fmt.Errorf("store: claim approval %s: %w", id, err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		a, _, err := s.GetApproval(ctx, id)
		if err != nil {
			return Approval{}, err
		}
		return Approval{}, fmt.Errorf("%w: approval %s is %s (owner %q)", ErrConflict, id, a.Status, a.Owner)
	}
	a, _, err := s.GetApproval(ctx, id)
	return a, err
}
