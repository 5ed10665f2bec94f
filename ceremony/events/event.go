package events

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Event types.
const (
	TypeRecordingStarted     = "recording.started"
	TypeRecordingFinished    = "recording.finished"
	TypeRecordingUploaded    = "recording.uploaded"
	TypeRecordingKeyFallback = "recording.key_fallback"
	TypeRecordingDeleted     = "recording.deleted"
	TypeKMSBreakerOpened     = "kms.breaker_opened"
	TypeKMSBreakerClosed     = "kms.breaker_closed"
	TypeStorageOutageStarted = "storage.outage_started"
	TypeStorageOutageEnded   = "storage.outage_ended"
	TypeApprovalRequested    = "approval.requested"
	TypeApprovalApproved     = "approval.approved"
	TypeApprovalExecuted     = "approval.executed"
	TypeApprovalVetoed       = "approval.vetoed"
	TypeJobProgress          = "job.progress"
	TypeJobCompleted         = "job.completed"
	TypeRetentionExpired     = "retention.expired"
	TypeLegalHoldSet         = "legal_hold.set"
	TypeLegalHoldReleased    = "legal_hold.released"
)

// Types lists every event type a subscription may name.
var Types = []string{
	TypeRecordingStarted, TypeRecordingFinished, TypeRecordingUploaded, TypeRecordingKeyFallback,
	TypeRecordingDeleted, TypeKMSBreakerOpened, TypeKMSBreakerClosed, TypeStorageOutageStarted,
	TypeStorageOutageEnded, TypeApprovalRequested, TypeApprovalApproved, TypeApprovalExecuted,
	TypeApprovalVetoed, TypeJobProgress, TypeJobCompleted, TypeRetentionExpired, TypeLegalHoldSet,
	TypeLegalHoldReleased,
}

// DefaultSource is the CloudEvents source of events without one.
const DefaultSource = "/mediaseal"

// Event is one lifecycle event as appended to the outbox.
type Event struct {
	// ID is the idempotency key; empty: a new UUIDv7.
	ID   string
	Type string
	// Source is the CloudEvents source (a URI reference); empty:
	// DefaultSource.
	Source  string
	Subject string
	// RecordingID orders delivery: per subscription, events of one
	// recording go out in Time order.
	RecordingID string
	// OrderKey orders events that have no recording (e.g. "approval:<id>");
	// empty: RecordingID, and without one the event is ordered alone.
	OrderKey string
	// Time is when the change happened; zero: now.
	Time time.Time
	// Data is marshalled to a JSON object; nil: {}.
	Data any
	// Caller is the caller number, sent (as data.caller) only to
	// subscriptions that may see caller numbers.
	Caller string
}

func knownType(t string) bool {
	for _, k := range Types {
		if k == t {
			return true
		}
	}
	return false
}

// dataJSON marshals data and checks it is a JSON object without a caller
// field (callers go in Event.Caller, so a subscription not allowed to see
// them cannot receive one by mistake).
func dataJSON(data any) ([]byte, error) {
	if data == nil {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("events: data: %w", err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("events: data must be a JSON object: %w", err)
	}
	if _, ok := obj["caller"]; ok {
		return nil, fmt.Errorf("events: data has a caller field; set Event.Caller instead")
	}
	return b, nil
}

// cloudEvent is the CloudEvents 1.0 JSON structured format.
type cloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            string          `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
}

// stored is an outbox row.
type stored struct {
	ID, Type, Source, Subject, RecordingID string
	Time                                   time.Time
	Data                                   []byte
	Caller                                 string
}

// body renders the CloudEvent a subscription receives: the caller number
// is added to data only when seeCaller.
func (e stored) body(seeCaller bool) ([]byte, error) {
	data := e.Data
	if seeCaller && e.Caller != "" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(e.Data, &obj); err != nil {
			return nil, fmt.Errorf("events: stored data of %s: %w", e.ID, err)
		}
		c, _ := json.Marshal(e.Caller)
		obj["caller"] = c
		b, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		data = b
	}
	return json.Marshal(cloudEvent{
		SpecVersion: "1.0", ID: e.ID, Source: e.Source, Type: e.Type, Subject: e.Subject,
		Time: e.Time.UTC().Format(time.RFC3339Nano), DataContentType: "application/json", Data: data,
	})
}

// validTypes checks a subscription's type list: known types or "*".
func validTypes(types []string) error {
	if len(types) == 0 {
		return fmt.Errorf("%w: a subscription needs at least one event type (or \"*\")", ErrInvalid)
	}
	for _, t := range types {
		if t != "*" && !knownType(t) {
			return fmt.Errorf("%w: unknown event type %q", ErrInvalid, t)
		}
	}
	return nil
}

func joinTypes(types []string) string { return strings.Join(types, ",") }

func splitTypes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
