package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// auditLockID is the PostgreSQL advisory lock key that serialises audit
// appends of gateways sharing one database ("maudit" in ASCII).
const auditLockID = 0x6d6175646974

// AuditEntry is one row of the hash-chained audit log. The audit package
// computes PrevHash and Hash; the store only keeps them.
type AuditEntry struct {
	Seq     int64
	ID      string
	At      time.Time
	Actor   string
	Action  string
	Target  string
	Outcome string
	// Details is a canonical JSON object.
	Details  string
	PrevHash string
	Hash     string
}

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	Actor, Action, Target, Outcome string
	// From and To bound At: From <= At < To.
	From, To time.Time
	// AfterSeq pages: only entries with Seq > AfterSeq.
	AfterSeq int64
	// Limit caps the result (default and maximum MaxListLimit).
	Limit int
}

// AuditCheckpoint is a signed statement that the chain up to Seq ends in
// Hash.
type AuditCheckpoint struct {
	Seq       int64
	Hash      string
	At        time.Time
	Kid       string
	Signature []byte
}

const auditColumns = `seq, id, at, actor, action, target, outcome, details, prev_hash, hash`

// AppendAuditEntry appends one entry built by build from the current head
// (seq 0 and hash "" for an empty log). Appends are serialised (an
// advisory lock on PostgreSQL, the write lock on SQLite), so the chain
// never forks even with several gateways.
func (s *SQL) AppendAuditEntry(ctx context.Context, build func(prevSeq int64, prevHash string) (AuditEntry, error)) (AuditEntry, error) {
	var e AuditEntry
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if s.dialect == DialectPostgres {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", auditLockID); err != nil {
				return err
			}
		}
		var seq int64
		var hash string
		err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if e, err = build(seq, hash); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO audit_events (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			e.Seq, e.ID, e.At.UnixNano(), e.Actor, e.Action, e.Target, e.Outcome, e.Details, e.PrevHash, e.Hash)
		return err
	})
	if err != nil {
		return AuditEntry{}, fmt.Errorf("store: append audit entry: %w", err)
	}
	return e, nil
}

// ListAuditEntries returns entries matching f ordered by Seq.
func (s *SQL) ListAuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var c conds
	c.addEq("actor", f.Actor)
	c.addEq("action", f.Action)
	c.addEq("target", f.Target)
	c.addEq("outcome", f.Outcome)
	if !f.From.IsZero() {
		c.add("at >= ?", f.From.UnixNano())
	}
	if !f.To.IsZero() {
		c.add("at < ?", f.To.UnixNano())
	}
	if f.AfterSeq > 0 {
		c.add("seq > ?", f.AfterSeq)
	}
	return list(ctx, s, listQuery{what: "list audit entries", columns: auditColumns, table: "audit_events",
		conds: c, order: "seq", limit: f.Limit}, scanAuditEntry)
}

func scanAuditEntry(sc scanner) (AuditEntry, error) {
	var e AuditEntry
	var at int64
	if err := sc.Scan(&e.Seq, &e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Outcome, &e.Details, &e.PrevHash, &e.Hash); err != nil {
		return AuditEntry{}, err
	}
	e.At = time.Unix(0, at).UTC()
	return e, nil
}

// AddAuditCheckpoint stores a signed checkpoint; a second checkpoint of
// the same seq is ErrDuplicate.
func (s *SQL) AddAuditCheckpoint(ctx context.Context, c AuditCheckpoint) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO audit_checkpoints (seq, hash, at, kid, signature) VALUES (?, ?, ?, ?, ?)`),
		c.Seq, c.Hash, c.At.UnixNano(), c.Kid, c.Signature)
	if isUniqueViolation(err) {
		return fmt.Errorf("%w: audit checkpoint %d", ErrDuplicate, c.Seq)
	}
	if err != nil {
		return fmt.Errorf("store: add audit checkpoint %d: %w", c.Seq, err)
	}
	return nil
}

// ListAuditCheckpoints returns every checkpoint by seq.
func (s *SQL) ListAuditCheckpoints(ctx context.Context) ([]AuditCheckpoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, hash, at, kid, signature FROM audit_checkpoints ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("store: list audit checkpoints: %w", err)
	}
	defer rows.Close()
	var out []AuditCheckpoint
	for rows.Next() {
		var c AuditCheckpoint
		var at int64
		if err := rows.Scan(&c.Seq, &c.Hash, &at, &c.Kid, &c.Signature); err != nil {
			return nil, fmt.Errorf("store: list audit checkpoints: %w", err)
		}
		c.At = time.Unix(0, at).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}
