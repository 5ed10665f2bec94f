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

// LegalHold freezes recordings for litigation: exactly one of RecordingID,
// CallID or QueueID names what it holds; a queue hold holds the queue's
// recordings started in [From, To) (a zero To: open-ended, so calls still
// to come are held too). Released holds stay as history.
type LegalHold struct {
	ID          string
	RecordingID string
	CallID      string
	QueueID     string
	From, To    time.Time
	Reason      string
	CreatedBy   string
	CreatedAt   time.Time
	ReleasedAt  time.Time // zero while the hold is active
	ReleasedBy  string    // the approval that released it
}

// Active reports whether the hold still holds.
func (h LegalHold) Active() bool { return h.ReleasedAt.IsZero() }

const legalHoldColumns = `id, recording_id, call_id, queue_id, from_ns, to_ns, reason, created_by, created_at, released_at, released_by`

// CreateLegalHold stores an active hold (a new id when h.ID is empty) and
// its legal_hold.set event in one transaction.
func (s *SQL) CreateLegalHold(ctx context.Context, h LegalHold) (LegalHold, error) {
	if err := validateHold(h); err != nil {
		return LegalHold{}, err
	}
	if h.ID == "" {
		h.ID = NewID()
	}
	h.CreatedAt, h.ReleasedAt, h.ReleasedBy = s.now().UTC(), time.Time{}, ""
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO legal_holds (`+legalHoldColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '')`),
			h.ID, h.RecordingID, h.CallID, h.QueueID, retainNanos(h.From), retainNanos(h.To), h.Reason, h.CreatedBy,
			h.CreatedAt.UnixNano()); err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, legalHoldEvent(events.TypeLegalHoldSet, h))
	})
	if isUniqueViolation(err) {
		return LegalHold{}, fmt.Errorf("%w: legal hold %s", ErrDuplicate, h.ID)
	}
	if err != nil {
		return LegalHold{}, fmt.Errorf("store: create legal hold: %w", err)
	}
	return h, nil
}

func validateHold(h LegalHold) error {
	n := 0
	for _, v := range []string{h.RecordingID, h.CallID, h.QueueID} {
		if v != "" {
			n++
		}
		if len(v) > 256 {
			return fmt.Errorf("%w: a legal hold's recording, call or queue id is at most 256 characters", ErrInvalid)
		}
	}
	switch {
	case n != 1:
		return fmt.Errorf("%w: a legal hold names exactly one of a recording, a call or a queue", ErrInvalid)
	case h.QueueID == "" && (!h.From.IsZero() || !h.To.IsZero()):
		return fmt.Errorf("%w: from and to bound a queue's hold only", ErrInvalid)
	case h.QueueID != "" && h.From.IsZero():
		return fmt.Errorf("%w: a queue's hold needs from (the start of the held time range)", ErrInvalid)
	case !h.To.IsZero() && !h.To.After(h.From):
		return fmt.Errorf("%w: a legal hold's to must be after its from", ErrInvalid)
	case strings.TrimSpace(h.Reason) == "" || len(h.Reason) > 2000:
		return fmt.Errorf("%w: a legal hold needs a reason (1-2000 characters)", ErrInvalid)
	case h.CreatedBy == "":
		return fmt.Errorf("%w: a legal hold needs the principal who sets it", ErrInvalid)
	}
	return nil
}

func legalHoldEvent(typ string, h LegalHold) events.Event {
	data := map[string]any{"legalHoldId": h.ID, "reason": h.Reason, "createdBy": h.CreatedBy, "createdAt": h.CreatedAt}
	for k, v := range map[string]string{"recordingId": h.RecordingID, "callId": h.CallID, "queueId": h.QueueID} {
		if v != "" {
			data[k] = v
		}
	}
	if !h.From.IsZero() {
		data["from"] = h.From
	}
	if !h.To.IsZero() {
		data["to"] = h.To
	}
	if !h.Active() {
		data["releasedAt"], data["releasedBy"] = h.ReleasedAt, h.ReleasedBy
	}
	return events.Event{Type: typ, Subject: "legal-holds/" + h.ID, OrderKey: "legal_hold:" + h.ID, RecordingID: h.RecordingID, Data: data}
}

// GetLegalHold returns one hold, active or released, or ErrNotFound.
func (s *SQL) GetLegalHold(ctx context.Context, id string) (LegalHold, error) {
	h, err := scanLegalHold(s.db.QueryRowContext(ctx, s.q(`SELECT `+legalHoldColumns+` FROM legal_holds WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return LegalHold{}, fmt.Errorf("%w: legal hold %s", ErrNotFound, id)
	}
	if err != nil {
		return LegalHold{}, fmt.Errorf("store: get legal hold %s: %w", id, err)
	}
	return h, nil
}

// ListLegalHolds lists holds by creation, the active ones only when
// activeOnly; after is the id of the previous page's last hold.
func (s *SQL) ListLegalHolds(ctx context.Context, activeOnly bool, after string, limit int) ([]LegalHold, error) {
	var c conds
	if activeOnly {
		c.add("released_at = 0")
	}
	if after != "" {
		c.add("id > ?", after)
	}
	return list(ctx, s, listQuery{what: "list legal holds", columns: legalHoldColumns, table: "legal_holds",
		conds: c, order: "id", limit: limit}, scanLegalHold)
}

// ReleaseLegalHold ends an active hold; by names the approval that
// allowed it. ErrConflict if it was already released. The release and its
// legal_hold.released event commit together.
func (s *SQL) ReleaseLegalHold(ctx context.Context, id, by string) (LegalHold, error) {
	if by == "" {
		return LegalHold{}, fmt.Errorf("%w: releasing a legal hold names the approval that allows it", ErrInvalid)
	}
	var out LegalHold
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := s.now().UnixNano()
		res, err := tx.ExecContext(ctx, s.q(`UPDATE legal_holds SET released_at = ?, released_by = ? WHERE id = ? AND released_at = 0`), now, by, id)
		if err != nil {
			return err
		}
		h, err := scanLegalHold(tx.QueryRowContext(ctx, s.q(`SELECT `+legalHoldColumns+` FROM legal_holds WHERE id = ?`), id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: legal hold %s", ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: legal hold %s was already released at %s", ErrConflict, id, h.ReleasedAt.Format(time.RFC3339))
		}
		out = h
		return s.appendEvents(ctx, tx, legalHoldEvent(events.TypeLegalHoldReleased, h))
	})
	if err != nil {
		return LegalHold{}, fmt.Errorf("store: release legal hold %s: %w", id, err)
	}
	return out, nil
}

func scanLegalHold(sc scanner) (LegalHold, error) {
	var h LegalHold
	var from, to, created, released int64
	if err := sc.Scan(&h.ID, &h.RecordingID, &h.CallID, &h.QueueID, &from, &to, &h.Reason, &h.CreatedBy, &created,
		&released, &h.ReleasedBy); err != nil {
		return LegalHold{}, err
	}
	h.CreatedAt = time.Unix(0, created).UTC()
	for _, p := range []struct {
		dst *time.Time
		ns  int64
	}{{&h.From, from}, {&h.To, to}, {&h.ReleasedAt, released}} {
		if p.ns != 0 {
			*p.dst = time.Unix(0, p.ns).UTC()
		}
	}
	return h, nil
}

// RecordingHeld reports whether an active hold matches the recording.
func (s *SQL) RecordingHeld(ctx context.Context, id string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM recordings WHERE id = ? AND `+heldByOf("recordings")), id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: is recording %s held: %w", id, err)
	}
	return n > 0, nil
}

// HeldRecordingsOfKey counts the recordings under an active hold whose
// envelope names the key: while there are any, the key is not destroyed.
func (s *SQL) HeldRecordingsOfKey(ctx context.Context, provider, keyID string) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM recordings WHERE key_provider = ? AND key_id = ?
		AND deleted_at = 0 AND `+heldByOf("recordings")), provider, keyID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: held recordings of %s:%s: %w", provider, keyID, err)
	}
	return n, nil
}

// HeldRecordings lists up to limit recordings an active hold matches,
// whatever their state (the hold's API shows what it holds).
func (s *SQL) HeldRecordings(ctx context.Context, h LegalHold, limit int) ([]Recording, error) {
	var c conds
	switch {
	case h.RecordingID != "":
		c.add("id = ?", h.RecordingID)
	case h.CallID != "":
		c.add("call_id = ?", h.CallID)
	default:
		c.add("queue_id = ? AND started_at >= ?", h.QueueID, retainNanos(h.From))
		if !h.To.IsZero() {
			c.add("started_at < ?", h.To.UnixNano())
		}
	}
	return s.queryRecordings(ctx, "held recordings", c, limit)
}
