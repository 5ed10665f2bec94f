package jobs

import (
	"context"
	"time"
)

// Audit actions this package emits.
const (
	ActionJobStarted   = "reencryption_job_started"
	ActionJobCompleted = "reencryption_job_completed"
	ActionJobFailed    = "reencryption_job_failed"
	ActionJobCancelled = "reencryption_job_cancelled"
	ActionKeyRotated   = "key_rotated"
	// ActionKeyAutoRotationEnabled: the provider's own rotation of a key
	// with autoRotate was turned on (AWS EnableKeyRotation).
	ActionKeyAutoRotationEnabled = "key_auto_rotation_enabled"
	ActionKeyShredded            = "key_shredded"
)

// Event is one audit event. Details hold counts and identifiers only,
// never key material or media.
type Event struct {
	At      time.Time
	Actor   string
	Action  string
	Target  string
	Outcome string // "success" or "failure"
	Details map[string]any
}

// Auditor records audit events; the gateway wires the audit log. Record
// must not block for long: jobs call it inline.
type Auditor interface {
	Record(ctx context.Context, e Event)
}

// AuditorFunc adapts a function to Auditor.
type AuditorFunc func(ctx context.Context, e Event)

// Record calls f.
func (f AuditorFunc) Record(ctx context.Context, e Event) { f(ctx, e) }

type nopAuditor struct{}

func (nopAuditor) Record(context.Context, Event) {}
