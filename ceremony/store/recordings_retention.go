package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/events"
)

// deletingMark is deleted_at of a recording the sweeper claimed for
// deletion and has not finished deleting: a sweeper that dies midway
// leaves it, and the next sweep (of any gateway) finishes the job.
const deletingMark = -1

// ExpiredRecordings lists up to limit recordings to delete at now: those
// a sweeper claimed and did not finish, then finished recordings whose
// object is stored, whose retain-until has passed and that no active
// legal hold matches.
func (s *SQL) ExpiredRecordings(ctx context.Context, now time.Time, limit int) ([]Recording, error) {
	var c conds
	c.add(`(deleted_at = ? OR (deleted_at = 0 AND status <> ? AND object_key <> '' AND retain_until > 0 AND retain_until <= ?
		AND NOT `+heldByOf("recordings")+`))`, deletingMark, RecordingActive, now.UnixNano())
	return s.queryRecordings(ctx, "expired recordings", c, limit)
}

// heldByOf is the SQL condition "an active legal hold matches the row of
// table" (a recordings row). Every question the sweeper, the hold flags and
// key deletion ask goes through it, so a recording is held by one rule.
func heldByOf(table string) string {
	return `EXISTS (SELECT 1 FROM legal_holds h WHERE h.released_at = 0 AND (
	(h.recording_id <> '' AND h.recording_id = ` + table + `.id) OR
	(h.call_id <> '' AND h.call_id = ` + table + `.call_id) OR
	(h.queue_id <> '' AND h.queue_id = ` + table + `.queue_id AND ` + table + `.started_at >= h.from_ns
		AND (h.to_ns = 0 OR ` + table + `.started_at < h.to_ns))))`
}

// ClaimExpired marks an expired, unheld recording as being deleted and
// appends its retention.expired event, in one transaction. It is true too
// for a recording an earlier pass claimed and did not finish (that pass
// died: the deletion goes on), false when the recording is not eligible
// (a hold was set, it is not expired at now, or it is already a
// tombstone). A claimed recording stays claimed until FinishDeletion.
func (s *SQL) ClaimExpired(ctx context.Context, id string, now time.Time) (bool, error) {
	claimed := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE recordings SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at = 0
			AND status <> ? AND object_key <> '' AND retain_until > 0 AND retain_until <= ? AND NOT `+heldByOf("recordings")),
			deletingMark, s.now().UnixNano(), id, RecordingActive, now.UnixNano())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var mark int64
			err := tx.QueryRowContext(ctx, s.q(`SELECT deleted_at FROM recordings WHERE id = ?`), id).Scan(&mark)
			claimed = err == nil && mark == deletingMark
			return nil
		}
		claimed = true
		r, err := scanRecording(tx.QueryRowContext(ctx, s.q(`SELECT `+recordingColumns+` FROM recordings WHERE id = ?`), id))
		if err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, recordingEvent(events.TypeRetentionExpired, r, map[string]any{
			"retainUntil": r.RetainUntil, "objectKey": r.ObjectKey}))
	})
	if err != nil {
		return false, fmt.Errorf("store: claim expired recording %s: %w", id, err)
	}
	return claimed, nil
}

// FinishDeletion turns a claimed recording into a tombstone: status
// DELETED, deleted_at set, proof (JSON naming the deleted objects) kept,
// and the wrapped DEK destroyed with the row's copy of it; its
// recording.deleted event commits with it. A recording already finished
// is left as it is (false).
func (s *SQL) FinishDeletion(ctx context.Context, id string, proof []byte) (bool, error) {
	done := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := s.now().UnixNano()
		res, err := tx.ExecContext(ctx, s.q(`UPDATE recordings SET status = ?, deleted_at = ?, deletion_proof = ?, wrapped_dek = ?,
			updated_at = ? WHERE id = ? AND deleted_at = ?`), RecordingDeleted, now, string(proof), []byte{}, now, id, deletingMark)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		done = true
		r, err := scanRecording(tx.QueryRowContext(ctx, s.q(`SELECT `+recordingColumns+` FROM recordings WHERE id = ?`), id))
		if err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, recordingEvent(events.TypeRecordingDeleted, r, map[string]any{
			"reason": "retention", "deletedAt": r.DeletedAt, "retainUntil": r.RetainUntil, "objectKey": r.ObjectKey}))
	})
	if err != nil {
		return false, fmt.Errorf("store: finish deleting recording %s: %w", id, err)
	}
	return done, nil
}

// HoldFlag is a recording whose stored object's legal-hold flag the
// sweeper must set or clear.
type HoldFlag struct {
	RecordingID string
	ObjectKey   string
}

// HoldFlagsToSet lists stored recordings an active hold matches whose
// object does not carry the flag yet.
func (s *SQL) HoldFlagsToSet(ctx context.Context, limit int) ([]HoldFlag, error) {
	return s.holdFlags(ctx, `SELECT id, object_key FROM recordings WHERE object_key <> '' AND deleted_at = 0
		AND id NOT IN (SELECT recording_id FROM recording_legal_holds) AND `+heldByOf("recordings")+` ORDER BY id`, limit)
}

// HoldFlagsToClear lists recordings whose object carries the flag though
// no active hold matches them any more.
func (s *SQL) HoldFlagsToClear(ctx context.Context, limit int) ([]HoldFlag, error) {
	return s.holdFlags(ctx, `SELECT f.recording_id, f.object_key FROM recording_legal_holds f JOIN recordings ON recordings.id = f.recording_id
		WHERE NOT `+heldByOf("recordings")+` ORDER BY f.recording_id`, limit)
}

func (s *SQL) holdFlags(ctx context.Context, query string, limit int) ([]HoldFlag, error) {
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+fmt.Sprintf(" LIMIT %d", limit)))
	if err != nil {
		return nil, fmt.Errorf("store: legal hold flags: %w", err)
	}
	defer rows.Close()
	var out []HoldFlag
	for rows.Next() {
		var f HoldFlag
		if err := rows.Scan(&f.RecordingID, &f.ObjectKey); err != nil {
			return nil, fmt.Errorf("store: legal hold flags: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// MarkHoldFlag records that the object's legal-hold flag is now on or off.
func (s *SQL) MarkHoldFlag(ctx context.Context, f HoldFlag, on bool) error {
	var err error
	if on {
		_, err = s.db.ExecContext(ctx, s.q(`INSERT INTO recording_legal_holds (recording_id, object_key, set_at) VALUES (?, ?, ?)
			ON CONFLICT (recording_id) DO NOTHING`), f.RecordingID, f.ObjectKey, s.now().UnixNano())
	} else {
		_, err = s.db.ExecContext(ctx, s.q(`DELETE FROM recording_legal_holds WHERE recording_id = ?`), f.RecordingID)
	}
	if err != nil {
		return fmt.Errorf("store: mark legal hold flag of %s: %w", f.RecordingID, err)
	}
	return nil
}
