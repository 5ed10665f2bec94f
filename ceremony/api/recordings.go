package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/recording"
)

// DefaultPageSize is the page size of GET /api/v2/recordings without limit.
const DefaultPageSize = 100

// recordingJSON is the metadata of a recording: no key envelope.
type recordingJSON struct {
	ID        string           `json:"id"`
	SessionID string           `json:"sessionId"`
	OrgID     string           `json:"orgId,omitempty"`
	CallID    string           `json:"callId"`
	AgentID   string           `json:"agentId,omitempty"`
	Caller    string           `json:"caller,omitempty"`
	QueueID   string           `json:"queueId"`
	Direction string           `json:"direction,omitempty"`
	Policy    recordingPolicy  `json:"policy"`
	Key       recordingKeyJSON `json:"key"`
	ObjectKey string           `json:"objectKey,omitempty"`
	Status    string           `json:"status"`
	Chunks    int64            `json:"chunks"`
	Bytes     int64            `json:"bytes"`
	SHA256    string           `json:"sha256,omitempty"`
	StartedAt time.Time        `json:"startedAt"`
	EndedAt   *time.Time       `json:"endedAt,omitempty"`
	DurableAt *time.Time       `json:"durableAt,omitempty"`
	GatewayID string           `json:"gatewayId,omitempty"`
	UpdatedAt time.Time        `json:"updatedAt"`
	// Tracks say how each track travelled (RTP, SRTP and its suite,
	// DTLS-SRTP); absent for recordings indexed before they were kept.
	Tracks []recording.Track `json:"tracks,omitempty"`
	// RetainUntil is the end of the recording's retention, fixed at its
	// creation (docs/retention.md); absent: none configured.
	RetainUntil *time.Time `json:"retainUntil,omitempty"`
	// DeletedAt and DeletionProof: the retention sweeper deleted the
	// recording's objects (status DELETED); the row is a tombstone.
	DeletedAt     *time.Time      `json:"deletedAt,omitempty"`
	DeletionProof json.RawMessage `json:"deletionProof,omitempty"`
}

type recordingPolicy struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
}

type recordingKeyJSON struct {
	Provider string `json:"provider"`
	KeyID    string `json:"keyId"`
	Version  string `json:"version"`
	Fallback bool   `json:"fallback"`
}

func toRecordingJSON(r store.Recording) recordingJSON {
	return recordingJSON{ID: r.ID, SessionID: r.SessionID, OrgID: r.OrgID, CallID: r.CallID, AgentID: r.AgentID, Caller: r.Caller, QueueID: r.QueueID,
		Direction: r.Direction, Policy: recordingPolicy{r.PolicyID, r.PolicyVersion},
		Key:       recordingKeyJSON{r.KeyProvider, r.KeyID, r.KeyVersion, r.Fallback},
		ObjectKey: r.ObjectKey, Status: r.Status, Chunks: r.Chunks, Bytes: r.Bytes, SHA256: r.SHA256,
		StartedAt: r.StartedAt, EndedAt: timePtr(r.EndedAt), DurableAt: timePtr(r.DurableAt),
		GatewayID: r.GatewayID, UpdatedAt: r.UpdatedAt, Tracks: r.Tracks, RetainUntil: timePtr(r.RetainUntil),
		DeletedAt: timePtr(r.DeletedAt), DeletionProof: rawJSON(r.DeletionProof)}
}

// rawJSON is a stored JSON text as is, nil when empty.
func rawJSON(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

var recordingParams = map[string]bool{"callId": true, "agentId": true, "caller": true, "cursor": true, "queueId": true, "from": true, "to": true, "keyId": true, "status": true,
	"limit": true, "after": true, "gatewayId": true, "awaitingRecovery": true}

func (s *server) listRecordings(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for name, vals := range q {
		if !recordingParams[name] {
			return &Error{Status: http.StatusBadRequest, Code: CodeUnknownField, Field: name, Message: "unknown query parameter " + strconv.Quote(name)}
		}
		if len(vals) > 1 {
			return fieldError(name, "give it once")
		}
	}
	f := store.RecordingFilter{CallID: q.Get("callId"), AgentID: q.Get("agentId"),
		Caller: recording.NormalizeCaller(q.Get("caller"), s.deps.CallerRegion), QueueID: q.Get("queueId"), KeyID: q.Get("keyId"), Status: q.Get("status"),
		GatewayID: q.Get("gatewayId"), After: q.Get("after"), Limit: DefaultPageSize}
	switch v := q.Get("awaitingRecovery"); v {
	case "", "false":
	case "true": // ACTIVE recordings whose gateway's lease expired (store/gateways.go)
		f.AwaitingRecovery = true
	default:
		return fieldError("awaitingRecovery", "must be true or false (got %q)", v)
	}
	if f.Status != "" && !store.ValidRecordingStatus(f.Status) {
		return fieldError("status", "must be ACTIVE, COMPLETE, TRUNCATED, RECOVERED or FAILED (got %q)", f.Status)
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return fieldError(p.name, "must be an RFC 3339 time such as 2026-03-01T10:00:00Z (got %q)", v)
			}
			*p.dst = t
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return fieldError("to", "must be after from")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxListLimit {
			return fieldError("limit", "must be 1-%d (got %q)", store.MaxListLimit, v)
		}
		f.Limit = n
	}
	for _, name := range []string{"callId", "agentId", "caller"} {
		if len(q.Get(name)) > recording.MaxCallerLen {
			return fieldError(name, "must be at most %d characters", recording.MaxCallerLen)
		}
	}
	if q.Get("caller") != "" && f.Caller == "" {
		// Blank after normalising: not "no filter", which would list everything.
		return fieldError("caller", "is blank")
	}
	digest := filterDigest(q)
	if v := q.Get("cursor"); v != "" {
		if f.After != "" {
			return fieldError("cursor", "give cursor or after, not both")
		}
		pos, err := decodeCursor(v, digest)
		if err != nil {
			return err
		}
		f.Cursor = pos
	}
	list, err := s.deps.Store.ListRecordings(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]recordingJSON, 0, len(list))
	for _, rec := range list {
		out = append(out, toRecordingJSON(rec))
	}
	resp := map[string]any{"entities": out}
	if len(list) == f.Limit {
		resp["nextAfter"] = list[len(list)-1].ID // the older id cursor, kept for existing clients
		resp["nextCursor"] = encodeCursor(list[len(list)-1], digest)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *server) getRecording(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	rec, err := s.deps.Store.GetRecording(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, CodeNotFound, "recording %q not found", id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toRecordingJSON(rec))
	return nil
}
