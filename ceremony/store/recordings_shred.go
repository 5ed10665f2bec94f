package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// RecordingShredded is the status of a recording whose key encryption key
// was destroyed (crypto-shredding): its ciphertext remains but nothing can
// decrypt it any more.
const RecordingShredded = "SHREDDED"

// ShredRecordings marks every recording whose envelope names the key
// (provider, keyID) SHREDDED and returns how many changed. Recordings
// already SHREDDED are left as they are, so a retry is harmless.
func (s *SQL) ShredRecordings(ctx context.Context, provider, keyID string) (int64, error) {
	if provider == "" || keyID == "" {
		return 0, fmt.Errorf("%w: shred needs a provider and a key id", ErrInvalid)
	}
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE recordings SET status = ?, updated_at = ?
		WHERE key_provider = ? AND key_id = ? AND status <> ?`),
		RecordingShredded, s.now().UnixNano(), provider, keyID, RecordingShredded)
	if err != nil {
		return 0, fmt.Errorf("store: shred recordings of %s:%s: %w", provider, keyID, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// JobScope selects the recordings a job walks; zero fields do not filter.
type JobScope struct {
	PolicyIDs []string
	// From and To bound StartedAt: From <= StartedAt < To.
	From, To time.Time
}

// JobCursor is the position of a job in its walk: the (StartedAt, ID) of
// the last recording it finished with.
type JobCursor struct {
	StartedAt int64  `json:"startedAt"`
	ID        string `json:"id"`
}

// ScanRecordings returns up to limit recordings of scope after cursor, in
// (StartedAt, ID) order, whatever their status.
func (s *SQL) ScanRecordings(ctx context.Context, scope JobScope, after JobCursor, limit int) ([]Recording, error) {
	var c conds
	if len(scope.PolicyIDs) > 0 {
		ids := make([]any, len(scope.PolicyIDs))
		for i, p := range scope.PolicyIDs {
			ids[i] = p
		}
		c.add("policy_id IN (?"+strings.Repeat(", ?", len(ids)-1)+")", ids...)
	}
	if !scope.From.IsZero() {
		c.add("started_at >= ?", scope.From.UnixNano())
	}
	if !scope.To.IsZero() {
		c.add("started_at < ?", scope.To.UnixNano())
	}
	if after.ID != "" {
		c.add("(started_at > ? OR (started_at = ? AND id > ?))", after.StartedAt, after.StartedAt, after.ID)
	}
	return s.queryRecordings(ctx, "scan recordings", c, limit)
}
