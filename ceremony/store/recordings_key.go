package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mediaseal/mediaseal/ceremony/events"
)

// SetRecordingKey records the key envelope of an ACTIVE recording once its
// DEK has arrived (the row is created at session start, before the KMS
// answers), with the KMS context it is wrapped under (nil: the legacy
// context). ErrConflict if the recording already has an envelope.
func (s *SQL) SetRecordingKey(ctx context.Context, id, provider, keyID, keyVersion string, fallback bool, wrappedDEK, kmsContext []byte) error {
	if len(wrappedDEK) == 0 {
		return fmt.Errorf("%w: empty wrapped DEK for recording %s", ErrInvalid, id)
	}
	// A fallback envelope and its recording.key_fallback event commit
	// together.
	var set bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE recordings SET key_provider = ?, key_id = ?, key_version = ?, fallback = ?,
		wrapped_dek = ?, kms_context = ?, updated_at = ? WHERE id = ? AND wrapped_dek IS NULL`),
			provider, keyID, keyVersion, fallback, wrappedDEK, kmsContext, s.now().UnixNano(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 || !fallback {
			set = n > 0
			return nil
		}
		set = true
		r, err := scanRecording(tx.QueryRowContext(ctx, s.q(`SELECT `+recordingColumns+` FROM recordings WHERE id = ?`), id))
		if err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, recordingEvent(events.TypeRecordingKeyFallback, r, nil))
	})
	if err != nil {
		return fmt.Errorf("store: set key of recording %s: %w", id, err)
	}
	if set {
		return nil
	}
	if _, err := s.GetRecording(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("%w: recording %s already has a key envelope", ErrConflict, id)
}
