package store

import (
	"context"
	"database/sql"

	"github.com/mediaseal/mediaseal/ceremony/events"
)

// Lifecycle events of recordings, appended to the outbox in the same
// transaction as the index change they report (ceremony/events). Their
// data names the call and the key envelope's provider, never the wrapped
// DEK or the KMS context; the caller number travels apart (Event.Caller)
// and reaches only subscriptions allowed to see it.

func recordingEvent(typ string, r Recording, data map[string]any) events.Event {
	base := map[string]any{
		"recordingId": r.ID, "orgId": r.OrgID, "callId": r.CallID, "queueId": r.QueueID, "direction": r.Direction,
		"agentId": r.AgentID, "policyId": r.PolicyID, "policyVersion": r.PolicyVersion, "gatewayId": r.GatewayID,
		"keyProvider": r.KeyProvider, "fallback": r.Fallback,
	}
	for k, v := range data {
		base[k] = v
	}
	return events.Event{Type: typ, Subject: "recordings/" + r.ID, RecordingID: r.ID, Data: base, Caller: r.Caller}
}

func (s *SQL) appendEvents(ctx context.Context, tx *sql.Tx, evs ...events.Event) error {
	for _, ev := range evs {
		if _, err := events.Append(ctx, tx, s.dialect, ev); err != nil {
			return err
		}
	}
	return nil
}

// startedEvents are recording.started, and recording.key_fallback when the
// platform key stood in for the customer's.
func startedEvents(r Recording) []events.Event {
	evs := []events.Event{recordingEvent(events.TypeRecordingStarted, r, map[string]any{"startedAt": r.StartedAt})}
	if r.Fallback {
		evs = append(evs, recordingEvent(events.TypeRecordingKeyFallback, r, nil))
	}
	return evs
}

// finishedEvent is recording.finished of the row as finished.
func finishedEvent(r Recording) events.Event {
	return recordingEvent(events.TypeRecordingFinished, r, map[string]any{
		"status": r.Status, "durationMs": r.EndedAt.Sub(r.StartedAt).Milliseconds(), "chunks": r.Chunks,
		"bytes": r.Bytes, "sha256": r.SHA256, "objectKey": r.ObjectKey, "startedAt": r.StartedAt, "endedAt": r.EndedAt,
		"tracks": r.Tracks, // label, codec and transport (RTP, SRTP and suite...) of each
	})
}

// approvalEvent reports a proposal: what and by whom, never the canonical
// parameters (they may name keys or recordings the subscriber need not
// see). Events of one proposal are ordered.
func approvalEvent(typ string, a Approval) events.Event {
	data := map[string]any{"approvalId": a.ID, "operation": a.Operation, "target": a.Target, "proposer": a.Proposer,
		"required": a.Required, "status": a.Status, "expiresAt": a.ExpiresAt}
	if a.VetoedBy != "" {
		data["vetoedBy"] = a.VetoedBy
	}
	if a.ExecutedBy != "" {
		data["executedBy"] = a.ExecutedBy
	}
	return events.Event{Type: typ, Subject: "approvals/" + a.ID, OrderKey: "approval:" + a.ID, Data: data}
}

// approvalTransition names the event of a status change ("" for none).
func approvalTransition(from, to string) string {
	if from == to {
		return ""
	}
	switch to {
	case ApprovalApproved, ApprovalScheduled:
		return events.TypeApprovalApproved
	case ApprovalExecuted:
		return events.TypeApprovalExecuted
	case ApprovalVetoed:
		return events.TypeApprovalVetoed
	}
	return ""
}

// jobEvent reports a job's progress (its checkpoint summary) or its end.
func jobEvent(typ, id, progress string, extra map[string]any) events.Event {
	data := map[string]any{"jobId": id, "progress": progress}
	for k, v := range extra {
		data[k] = v
	}
	return events.Event{Type: typ, Subject: "jobs/" + id, OrderKey: "job:" + id, Data: data}
}
