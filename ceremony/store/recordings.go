package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/events"
	"github.com/mediaseal/mediaseal/recording"
)

const recordingColumns = `id, session_id, org_id, call_id, queue_id, direction, policy_id, policy_version,
	key_provider, key_id, key_version, fallback, wrapped_dek, object_key, status, chunks, bytes, sha256,
	started_at, ended_at, durable_at, gateway_id, updated_at, kms_context, agent_id, caller, tracks, retain_until, deleted_at, deletion_proof`

var finalStatuses = map[string]bool{
	RecordingComplete: true, RecordingTruncated: true, RecordingRecovered: true, RecordingFailed: true,
}

// ValidRecordingStatus reports whether s is a known recording status.
func ValidRecordingStatus(s string) bool {
	return s == RecordingActive || s == RecordingShredded || finalStatuses[s]
}

// CreateRecording inserts the index row of a new recording.
func (s *SQL) CreateRecording(ctx context.Context, r Recording) error {
	if r.ID == "" {
		return fmt.Errorf("%w: recording id is empty", ErrInvalid)
	}
	if r.Status == "" {
		r.Status = RecordingActive
	}
	if !ValidRecordingStatus(r.Status) {
		return fmt.Errorf("%w: recording status %q", ErrInvalid, r.Status)
	}
	now := s.now()
	if r.StartedAt.IsZero() {
		r.StartedAt = now
	}
	// The row and its recording.started event commit together.
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO recordings (`+recordingColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '')`),
			r.ID, r.SessionID, r.OrgID, r.CallID, r.QueueID, r.Direction, r.PolicyID, r.PolicyVersion,
			r.KeyProvider, r.KeyID, r.KeyVersion, r.Fallback, r.WrappedDEK, r.ObjectKey, r.Status,
			r.Chunks, r.Bytes, r.SHA256, r.StartedAt.UnixNano(), nanos(r.EndedAt), nanos(r.DurableAt),
			r.GatewayID, now.UnixNano(), r.KMSContext, r.AgentID, r.Caller, tracksJSON(r.Tracks), retainNanos(r.RetainUntil)); err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, startedEvents(r)...)
	})
	if isUniqueViolation(err) {
		return fmt.Errorf("%w: recording %s", ErrDuplicate, r.ID)
	}
	if err != nil {
		return fmt.Errorf("store: create recording %s: %w", r.ID, err)
	}
	return nil
}

// UpdateRecordingProgress records durable progress of an ACTIVE recording.
func (s *SQL) UpdateRecordingProgress(ctx context.Context, id string, chunks, bytes int64, durableAt time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE recordings SET chunks = ?, bytes = ?, durable_at = ?, updated_at = ?
		WHERE id = ? AND status = ? AND chunks <= ?`),
		chunks, bytes, nanos(durableAt), s.now().UnixNano(), id, RecordingActive, chunks)
	if err != nil {
		return fmt.Errorf("store: update recording %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	cur, err := s.GetRecording(ctx, id)
	if err != nil {
		return err
	}
	if cur.Status != RecordingActive {
		return fmt.Errorf("%w: recording %s is %s, not ACTIVE", ErrConflict, id, cur.Status)
	}
	return nil // stale: a later update already counted more chunks
}

// FinishRecording gives an ACTIVE recording its final status.
func (s *SQL) FinishRecording(ctx context.Context, id, status string, chunks, bytes int64, sha256, objectKey string) error {
	if !finalStatuses[status] {
		return fmt.Errorf("%w: final status %q (want COMPLETE, TRUNCATED, RECOVERED or FAILED)", ErrInvalid, status)
	}
	now := s.now().UnixNano()
	// The final status and its recording.finished event commit together;
	// a retried finish changes nothing and emits nothing.
	var finished bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE recordings SET status = ?, chunks = ?, bytes = ?, sha256 = ?,
		object_key = CASE WHEN CAST(? AS TEXT) = '' THEN object_key ELSE ? END, ended_at = ?, updated_at = ?
		WHERE id = ? AND status = ?`),
			status, chunks, bytes, sha256, objectKey, objectKey, now, now, id, RecordingActive)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		finished = true
		r, err := scanRecording(tx.QueryRowContext(ctx, s.q(`SELECT `+recordingColumns+` FROM recordings WHERE id = ?`), id))
		if err != nil {
			return err
		}
		evs := []events.Event{finishedEvent(r)}
		if objectKey != "" {
			// The recording service finishes a row with its object key
			// only once the object is stored and checked against the
			// spool file: the upload is done too.
			evs = append(evs, recordingEvent(events.TypeRecordingUploaded, r, map[string]any{
				"objectKey": r.ObjectKey, "bytes": r.Bytes, "sha256": r.SHA256}))
		}
		return s.appendEvents(ctx, tx, evs...)
	})
	if err != nil {
		return fmt.Errorf("store: finish recording %s: %w", id, err)
	}
	if finished {
		return nil
	}
	cur, err := s.GetRecording(ctx, id)
	if err != nil {
		return err
	}
	if cur.Status == status && cur.SHA256 == sha256 && cur.Chunks == chunks && cur.Bytes == bytes {
		return nil // a retried finish
	}
	return fmt.Errorf("%w: recording %s is already %s", ErrConflict, id, cur.Status)
}

// RewrapRecording replaces the key envelope of a recording.
func (s *SQL) RewrapRecording(ctx context.Context, id, fromVersion, toVersion string, wrappedDEK []byte) error {
	if len(wrappedDEK) == 0 {
		return fmt.Errorf("%w: empty wrapped DEK for recording %s", ErrInvalid, id)
	}
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE recordings SET wrapped_dek = ?, key_version = ?, updated_at = ?
		WHERE id = ? AND key_version = ?`), wrappedDEK, toVersion, s.now().UnixNano(), id, fromVersion)
	if err != nil {
		return fmt.Errorf("store: rewrap recording %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	cur, err := s.GetRecording(ctx, id)
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: recording %s key version is %q, not %q", ErrConflict, id, cur.KeyVersion, fromVersion)
}

// GetRecording returns one recording.
func (s *SQL) GetRecording(ctx context.Context, id string) (Recording, error) {
	row := s.db.QueryRowContext(ctx, s.q(`SELECT `+recordingColumns+` FROM recordings WHERE id = ?`), id)
	r, err := scanRecording(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Recording{}, fmt.Errorf("%w: recording %s", ErrNotFound, id)
	}
	if err != nil {
		return Recording{}, fmt.Errorf("store: get recording %s: %w", id, err)
	}
	return r, nil
}

// ListRecordings returns one page of recordings matching f.
func (s *SQL) ListRecordings(ctx context.Context, f RecordingFilter) ([]Recording, error) {
	var c conds
	c.addEq("call_id", f.CallID)
	c.addEq("agent_id", f.AgentID)
	c.addEq("caller", f.Caller)
	c.addEq("queue_id", f.QueueID)
	c.addEq("key_id", f.KeyID)
	c.addEq("status", f.Status)
	c.addEq("gateway_id", f.GatewayID)
	if f.AwaitingRecovery {
		c.add("awaiting_recovery_at IS NOT NULL AND status = ?", RecordingActive)
	}
	if !f.From.IsZero() {
		c.add("started_at >= ?", f.From.UnixNano())
	}
	if !f.To.IsZero() {
		c.add("started_at < ?", f.To.UnixNano())
	}
	if f.After != "" {
		// Keyset pagination on (started_at, id); an unknown cursor yields
		// an empty page rather than restarting from the top.
		c.add("(started_at, id) > (SELECT started_at, id FROM recordings WHERE id = ?)", f.After)
	}
	if f.Cursor != nil {
		// Spelled out rather than a row comparison so both dialects use
		// the (…, started_at, id) indexes.
		n := f.Cursor.StartedAt.UnixNano()
		c.add("(started_at > ? OR (started_at = ? AND id > ?))", n, n, f.Cursor.ID)
	}
	return s.queryRecordings(ctx, "list recordings", c, f.Limit)
}

// ListRecordingsByStatus lists recordings in one status, oldest first.
func (s *SQL) ListRecordingsByStatus(ctx context.Context, status string, limit int) ([]Recording, error) {
	return s.ListRecordings(ctx, RecordingFilter{Status: status, Limit: limit})
}

func scanRecording(sc scanner) (Recording, error) {
	var r Recording
	var started, updated int64
	var ended, durable sql.NullInt64
	var tracks string
	var retain, deleted int64
	err := sc.Scan(&r.ID, &r.SessionID, &r.OrgID, &r.CallID, &r.QueueID, &r.Direction, &r.PolicyID, &r.PolicyVersion,
		&r.KeyProvider, &r.KeyID, &r.KeyVersion, &r.Fallback, &r.WrappedDEK, &r.ObjectKey, &r.Status,
		&r.Chunks, &r.Bytes, &r.SHA256, &started, &ended, &durable, &r.GatewayID, &updated, &r.KMSContext, &r.AgentID, &r.Caller, &tracks, &retain, &deleted, &r.DeletionProof)
	if err != nil {
		return Recording{}, err
	}
	if tracks != "" {
		if err := json.Unmarshal([]byte(tracks), &r.Tracks); err != nil {
			return Recording{}, fmt.Errorf("store: recording %s tracks: %w", r.ID, err)
		}
	}
	r.StartedAt = time.Unix(0, started).UTC()
	r.UpdatedAt = time.Unix(0, updated).UTC()
	r.EndedAt = fromNanos(ended)
	r.DurableAt = fromNanos(durable)
	if retain != 0 {
		r.RetainUntil = time.Unix(0, retain).UTC()
	}
	if deleted > 0 { // -1: claimed, still being deleted
		r.DeletedAt = time.Unix(0, deleted).UTC()
	}
	return r, nil
}

// queryRecordings runs a recordings query with the given conditions in
// (started_at, id) order, at most limit rows (MaxListLimit when limit is
// out of range); what names the operation in errors.
func (s *SQL) queryRecordings(ctx context.Context, what string, c conds, limit int) ([]Recording, error) {
	return list(ctx, s, listQuery{what: what, columns: recordingColumns, table: "recordings",
		conds: c, order: "started_at, id", limit: limit}, scanRecording)
}

// tracksJSON is the tracks column: "" for none (rows that predate it).
func tracksJSON(ts []recording.Track) string {
	if len(ts) == 0 {
		return ""
	}
	b, _ := json.Marshal(ts) // strings only: cannot fail
	return string(b)
}

// retainNanos stores the zero retain-until (no retention configured) as 0,
// the column's NOT NULL default, so rows made before migration 0010 and
// rows without retention read back alike.
func retainNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
