package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/mediaseal/mediaseal/recording"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// RecordingIndex is the recordings index as the recording life cycle
// writes it.
type RecordingIndex struct{ SQL *SQL }

var _ recording.Index = RecordingIndex{}

// Create implements recording.Index.
func (x RecordingIndex) Create(ctx context.Context, r recording.Row) error {
	err := x.SQL.CreateRecording(ctx, Recording{ID: r.ID, SessionID: r.SessionID, OrgID: r.OrgID,
		CallID: r.CallID, QueueID: r.QueueID, Direction: r.Direction, PolicyID: r.PolicyID, PolicyVersion: r.PolicyVersion,
		Status: RecordingActive, StartedAt: r.StartedAt, GatewayID: r.GatewayID, ObjectKey: r.ObjectKey,
		AgentID: r.AgentID, Caller: r.Caller, Tracks: r.Tracks, RetainUntil: r.RetainUntil})
	if errors.Is(err, ErrDuplicate) {
		return nil // a retry of a create that landed (ids are random)
	}
	return lifecycleErr(err)
}

// SetKey implements recording.Index.
func (x RecordingIndex) SetKey(ctx context.Context, id string, env seal.Envelope, kmsContext []byte) error {
	return lifecycleErr(x.SQL.SetRecordingKey(ctx, id, env.Key.Provider, env.Key.KeyID, env.Key.KeyVersion, env.Key.Fallback, env.WrappedDEK, kmsContext))
}

// Progress implements recording.Index.
func (x RecordingIndex) Progress(ctx context.Context, p recording.Progress) error {
	return lifecycleErr(x.SQL.UpdateRecordingProgress(ctx, p.ID, p.Chunks, p.Bytes, p.DurableAt))
}

// ProgressBatch implements recording.Index.
func (x RecordingIndex) ProgressBatch(ctx context.Context, ps []recording.Progress) error {
	out := make([]Progress, len(ps))
	for i, p := range ps {
		out[i] = Progress{ID: p.ID, Chunks: p.Chunks, Bytes: p.Bytes, DurableAt: p.DurableAt}
	}
	return lifecycleErr(x.SQL.UpdateRecordingsProgress(ctx, out))
}

// Finish implements recording.Index.
func (x RecordingIndex) Finish(ctx context.Context, id, status string, chunks, bytes int64, sha256, objectKey string) error {
	return lifecycleErr(x.SQL.FinishRecording(ctx, id, status, chunks, bytes, sha256, objectKey))
}

// Get implements recording.Index.
func (x RecordingIndex) Get(ctx context.Context, id string) (recording.Row, error) {
	r, err := x.SQL.GetRecording(ctx, id)
	if err != nil {
		return recording.Row{}, lifecycleErr(err)
	}
	return recording.Row{ID: r.ID, SessionID: r.SessionID, OrgID: r.OrgID, CallID: r.CallID, QueueID: r.QueueID,
		Direction: r.Direction, PolicyID: r.PolicyID, PolicyVersion: r.PolicyVersion, ObjectKey: r.ObjectKey,
		StartedAt: r.StartedAt, GatewayID: r.GatewayID, Chunks: r.Chunks, AgentID: r.AgentID, Caller: r.Caller, Tracks: r.Tracks, KMSContext: r.KMSContext, RetainUntil: r.RetainUntil,
		Envelope: seal.Envelope{Key: seal.KeyRef{Provider: r.KeyProvider, KeyID: r.KeyID, KeyVersion: r.KeyVersion, Fallback: r.Fallback},
			WrappedDEK: r.WrappedDEK}}, nil
}

// lifecycleErr marks the store's answers the life cycle must tell apart:
// a missing row, and a write refused for good (not retried).
func lifecycleErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: %w", recording.ErrNotFound, err)
	case errors.Is(err, ErrConflict), errors.Is(err, ErrInvalid), errors.Is(err, ErrDuplicate):
		return fmt.Errorf("%w: %w", recording.ErrRejected, err)
	}
	return err
}
