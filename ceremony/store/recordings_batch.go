package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Progress is one recording's durable progress, for a batched update.
type Progress struct {
	ID        string
	Chunks    int64
	Bytes     int64
	DurableAt time.Time
}

// UpdateRecordingsProgress applies many progress updates in one
// transaction: a gateway with thousands of live recordings writes its
// index once per interval, not once per recording. Rows that are no longer
// ACTIVE, or already further along, are left as they are.
func (s *SQL) UpdateRecordingsProgress(ctx context.Context, ps []Progress) error {
	if len(ps) == 0 {
		return nil
	}
	now := s.now().UnixNano()
	return s.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, s.q(`UPDATE recordings SET chunks = ?, bytes = ?, durable_at = ?, updated_at = ?
			WHERE id = ? AND status = ? AND chunks <= ? AND bytes <= ?`))
		if err != nil {
			return fmt.Errorf("store: prepare progress: %w", err)
		}
		defer stmt.Close()
		// Each row's statement runs without ctx's cancellation: given a
		// cancellable context, the SQLite driver starts a goroutine per
		// statement to interrupt it, so a batch of thousands of rows made
		// thousands of goroutines at once, and their stacks stayed in the
		// gateway's memory (about 4 KiB per live recording). A row's update
		// by primary key is short; ctx still bounds the transaction and is
		// checked between rows.
		rowCtx := context.WithoutCancel(ctx)
		for _, p := range ps {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("store: progress batch: %w", err)
			}
			if _, err := stmt.ExecContext(rowCtx, p.Chunks, p.Bytes, nanos(p.DurableAt), now, p.ID, RecordingActive, p.Chunks, p.Bytes); err != nil {
				return fmt.Errorf("store: progress of %s: %w", p.ID, err)
			}
		}
		return nil
	})
}
