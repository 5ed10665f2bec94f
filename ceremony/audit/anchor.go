package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// Anchor is a write-once place outside the control-plane database where
// signed heads are published as they are made, so that the database's
// holder cannot remove entries, checkpoints or every checkpoint without
// [VerifyStore] noticing: the anchored head names a sequence number and a
// hash the chain must still contain.
type Anchor interface {
	// Publish appends one signed head. It must not return before the head
	// is durable where the database holder cannot rewrite it.
	Publish(ctx context.Context, head store.AuditCheckpoint) error
	// Heads returns the anchored heads by sequence number: all of them
	// where that is cheap, at least the latest.
	Heads(ctx context.Context) ([]store.AuditCheckpoint, error)
	// String names the anchor in logs ("file:/var/lib/...", "s3://bucket/prefix").
	String() string
}

// sensitiveActions are the actions anchored at once rather than at the
// next periodic checkpoint: a key bound, disabled, deleted or shredded, a
// policy changed (its key or failure mode may move), a recording played
// back, and the quorum executing any of them. Key fallbacks are not: in a
// KMS outage every new call has one, and they wait for the periodic
// checkpoint like the rest.
var sensitiveActions = map[string]bool{
	"key.bound":              true,
	"key.disabled":           true,
	"key.deletion.scheduled": true,
	"key.deleted":            true,
	"key_shredded":           true,
	"key_rotated":            true,
	"policy.created":         true,
	"policy.changed":         true,
	"policy.deleted":         true,
	"recording.playback":     true,
	"approval.executed":      true,
}

// Sensitive reports whether an action is anchored as soon as it is
// recorded. Refusals of those actions ("key.bind.refused") are not: no
// key moved.
func Sensitive(action string) bool { return sensitiveActions[action] }

// EncodeHead is one anchored head as a line of JSON (no newline).
func EncodeHead(h store.AuditCheckpoint) ([]byte, error) {
	return json.Marshal(h)
}

// DecodeHeads reads heads written one per line by EncodeHead; blank lines
// are skipped, anything else that does not parse is an error naming the
// line (a half-written last line included: the anchor is append-only, so
// a torn write is worth a look).
func DecodeHeads(b []byte) ([]store.AuditCheckpoint, error) {
	var out []store.AuditCheckpoint
	for n, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var h store.AuditCheckpoint
		if err := json.Unmarshal([]byte(line), &h); err != nil || h.Seq <= 0 || h.Hash == "" {
			return nil, fmt.Errorf("audit: anchored head on line %d does not parse (%v)", n+1, err)
		}
		out = append(out, h)
	}
	return out, nil
}
