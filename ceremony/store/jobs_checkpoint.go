package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/events"
)

// EnvelopeChange replaces the key envelope of one recording (a rewrap):
// it applies only while the recording's key version is still FromVersion.
type EnvelopeChange struct {
	RecordingID string
	FromVersion string
	ToVersion   string
	WrappedDEK  []byte
}

// ObjectChange points a recording at a new sealed object under a new key
// envelope (a reseal): it applies only while the recording still names
// FromObjectKey.
type ObjectChange struct {
	RecordingID   string
	FromObjectKey string
	ObjectKey     string
	KeyProvider   string
	KeyID         string
	KeyVersion    string
	WrappedDEK    []byte
	// KMSContext is the new DEK's KMS context (canonical; nil: legacy).
	KMSContext []byte
	SHA256     string
	Bytes      int64
	// Chunks is the new object's chunk count: a reseal chunks the records
	// anew, and exports compare the object with the index's count.
	Chunks int64
}

// JobCheckpoint is one step of a job: at most one recording change and the
// job's progress after it, committed together so that a restart neither
// repeats nor skips the change.
type JobCheckpoint struct {
	JobID, Owner string
	Progress     string
	// Pending is the job's cleanup debt after this step ("" for none).
	Pending    string
	LeaseUntil time.Time
	Envelope   *EnvelopeChange
	Object     *ObjectChange
}

// CheckpointJob commits c in one transaction. It returns whether a cancel
// was requested for the job. ErrConflict means the recording changed under
// the job (nothing is committed) or the runner lost its lease.
func (s *SQL) CheckpointJob(ctx context.Context, c JobCheckpoint) (cancelRequested bool, err error) {
	now := s.now().UnixNano()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if e := c.Envelope; e != nil {
			if err := s.rewrapTx(ctx, tx, *e, now); err != nil {
				return err
			}
		}
		if o := c.Object; o != nil {
			if err := s.replaceObjectTx(ctx, tx, *o, now); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE jobs SET progress = ?, pending = ?, lease_until = ?, updated_at = ?
			WHERE id = ? AND owner = ? AND status = ?`),
			c.Progress, c.Pending, c.LeaseUntil.UnixNano(), now, c.JobID, c.Owner, JobRunning)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: job %s is not running under %q", ErrConflict, c.JobID, c.Owner)
		}
		if err := s.appendEvents(ctx, tx, jobEvent(events.TypeJobProgress, c.JobID, c.Progress, nil)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, s.q(`SELECT cancel_requested FROM jobs WHERE id = ?`), c.JobID).Scan(&cancelRequested)
	})
	if err != nil && !errors.Is(err, ErrConflict) {
		err = fmt.Errorf("store: checkpoint job %s: %w", c.JobID, err)
	}
	return cancelRequested, err
}

func (s *SQL) rewrapTx(ctx context.Context, tx *sql.Tx, e EnvelopeChange, now int64) error {
	if len(e.WrappedDEK) == 0 {
		return fmt.Errorf("%w: empty wrapped DEK for recording %s", ErrInvalid, e.RecordingID)
	}
	res, err := tx.ExecContext(ctx, s.q(`UPDATE recordings SET wrapped_dek = ?, key_version = ?, updated_at = ?
		WHERE id = ? AND key_version = ? AND status <> ?`),
		e.WrappedDEK, e.ToVersion, now, e.RecordingID, e.FromVersion, RecordingShredded)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: recording %s is no longer at key version %q", ErrConflict, e.RecordingID, e.FromVersion)
	}
	return nil
}

func (s *SQL) replaceObjectTx(ctx context.Context, tx *sql.Tx, o ObjectChange, now int64) error {
	if len(o.WrappedDEK) == 0 || o.ObjectKey == "" || o.FromObjectKey == "" {
		return fmt.Errorf("%w: object change of recording %s needs both object keys and a wrapped DEK", ErrInvalid, o.RecordingID)
	}
	res, err := tx.ExecContext(ctx, s.q(`UPDATE recordings SET object_key = ?, key_provider = ?, key_id = ?, key_version = ?,
		wrapped_dek = ?, kms_context = ?, sha256 = ?, bytes = ?, chunks = ?, updated_at = ? WHERE id = ? AND object_key = ? AND status <> ?`),
		o.ObjectKey, o.KeyProvider, o.KeyID, o.KeyVersion, o.WrappedDEK, o.KMSContext, o.SHA256, o.Bytes, o.Chunks, now,
		o.RecordingID, o.FromObjectKey, RecordingShredded)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: recording %s no longer names object %s", ErrConflict, o.RecordingID, o.FromObjectKey)
	}
	return nil
}

// ReplaceRecordingObject atomically points a recording at a new object and
// key envelope (see ObjectChange); ErrConflict if it no longer names
// o.FromObjectKey or was shredded.
func (s *SQL) ReplaceRecordingObject(ctx context.Context, o ObjectChange) error {
	err := s.tx(ctx, func(tx *sql.Tx) error { return s.replaceObjectTx(ctx, tx, o, s.now().UnixNano()) })
	if err != nil && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrInvalid) {
		return fmt.Errorf("store: replace object of recording %s: %w", o.RecordingID, err)
	}
	return err
}
