package store

import (
	"context"
	"time"

	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/recording"
)

// Store is the one repository interface of the control plane. [*SQL]
// implements it for SQLite and PostgreSQL.
type Store interface {
	RecordingRepository
	PolicyRepository
	KeyRepository
	// ListGatewayLeases lists the members of the cluster (gateways.go).
	ListGatewayLeases(ctx context.Context) ([]GatewayLease, error)
	// Dialect reports "sqlite" or "postgres".
	Dialect() string
	// Close releases the database; it is idempotent.
	Close() error
}

// RecordingRepository is the recordings index. A gateway creates the row
// when a session starts (status ACTIVE), updates it as chunks become
// durable and finishes it, so a crash leaves a row saying how far the
// recording got.
type RecordingRepository interface {
	// CreateRecording inserts rec; ErrDuplicate if its id exists. An empty
	// Status means ACTIVE; a zero StartedAt means now.
	CreateRecording(ctx context.Context, rec Recording) error
	// UpdateRecordingProgress records that chunks/bytes are durable as of
	// durableAt. Stale updates (fewer chunks than stored) are ignored;
	// ErrConflict if the recording is no longer ACTIVE.
	UpdateRecordingProgress(ctx context.Context, id string, chunks, bytes int64, durableAt time.Time) error
	// FinishRecording moves an ACTIVE recording to a final status
	// (COMPLETE, TRUNCATED, RECOVERED or FAILED) and sets EndedAt. Finishing
	// again with the same status and checksum is a no-op; anything else on
	// a finished recording is ErrConflict.
	FinishRecording(ctx context.Context, id, status string, chunks, bytes int64, sha256, objectKey string) error
	// SetRecordingKey records the key envelope of a recording created
	// without one (the DEK arrives after the session starts); ErrConflict
	// if it already has one.
	SetRecordingKey(ctx context.Context, id, provider, keyID, keyVersion string, fallback bool, wrappedDEK, kmsContext []byte) error
	// RewrapRecording replaces the key envelope (wrapped DEK and key
	// version) if the stored key version is still fromVersion (ErrConflict
	// otherwise). The media is not touched.
	RewrapRecording(ctx context.Context, id, fromVersion, toVersion string, wrappedDEK []byte) error
	// GetRecording returns one recording or ErrNotFound.
	GetRecording(ctx context.Context, id string) (Recording, error)
	// ListRecordings returns recordings matching f ordered by (StartedAt, ID).
	ListRecordings(ctx context.Context, f RecordingFilter) ([]Recording, error)
	// ListRecordingsByStatus is ListRecordings filtered by status only.
	ListRecordingsByStatus(ctx context.Context, status string, limit int) ([]Recording, error)
}

// PolicyRepository stores recording policies with their full version
// history. Every change writes a new version row; running recordings keep
// the (policy id, version) they started with and can read it back with
// GetPolicyVersion even after the policy was changed or deleted.
type PolicyRepository interface {
	// CreatePolicy stores p as version 1; an empty p.ID gets NewID().
	// ErrDuplicate if the id was ever used.
	CreatePolicy(ctx context.Context, p policy.Policy) (StoredPolicy, error)
	// GetPolicy returns the current version of a live policy.
	GetPolicy(ctx context.Context, id string) (StoredPolicy, error)
	// GetPolicyVersion returns one version, live or deleted.
	GetPolicyVersion(ctx context.Context, id string, version int64) (StoredPolicy, error)
	// ListPolicies returns the current version of every live policy by id.
	ListPolicies(ctx context.Context) ([]StoredPolicy, error)
	// ListPolicyVersions returns every version of a policy, oldest first.
	ListPolicyVersions(ctx context.Context, id string) ([]StoredPolicy, error)
	// UpdatePolicy writes p (p.ID names the policy) as the next version if
	// the current version is expectedVersion; ErrConflict otherwise.
	UpdatePolicy(ctx context.Context, p policy.Policy, expectedVersion int64) (StoredPolicy, error)
	// DeletePolicy soft-deletes a policy; expectedVersion 0 skips the
	// version check.
	DeletePolicy(ctx context.Context, id string, expectedVersion int64) error
}

// KeyRepository is the registry of key references (never key material).
type KeyRepository interface {
	// CreateKey registers k; an empty k.ID gets NewID(). ErrDuplicate if
	// the id or the name exists.
	CreateKey(ctx context.Context, k Key) (Key, error)
	// GetKey returns one key or ErrNotFound.
	GetKey(ctx context.Context, id string) (Key, error)
	// ListKeys returns every key ordered by name.
	ListKeys(ctx context.Context) ([]Key, error)
	// UpdateKeyBinding records the result of a bind handshake.
	UpdateKeyBinding(ctx context.Context, id string, b Binding) (Key, error)
	// UpdateKeyRotation sets the rotation settings.
	UpdateKeyRotation(ctx context.Context, id string, r Rotation) (Key, error)
	// UpdateKeyState sets the registered state (ENABLED, DISABLED, ...).
	UpdateKeyState(ctx context.Context, id, state string) (Key, error)
}

// Recording statuses.
const (
	RecordingActive    = "ACTIVE"
	RecordingComplete  = "COMPLETE"
	RecordingTruncated = "TRUNCATED"
	RecordingRecovered = "RECOVERED"
	RecordingFailed    = "FAILED"
	// RecordingDeleted: the retention sweeper deleted the objects.
	RecordingDeleted = "DELETED"
)

// Recording is one row of the recordings index.
type Recording struct {
	ID        string
	SessionID string
	OrgID     string
	CallID    string
	QueueID   string
	Direction string
	// AgentID and Caller are the session's call fields, for search; Caller
	// is E.164 when it parses (recording.NormalizeCaller).
	AgentID string
	Caller  string
	// Tracks are the recording's tracks as they arrived (label, kind,
	// codec, transport); nil for rows that predate them.
	Tracks []recording.Track
	// PolicyID and PolicyVersion are the policy version the recording
	// started under.
	PolicyID      string
	PolicyVersion int64
	// KeyProvider, KeyID and KeyVersion name the key encryption key of
	// the current envelope; Fallback is true when the platform key was
	// used because the customer key was unavailable.
	KeyProvider string
	KeyID       string
	KeyVersion  string
	Fallback    bool
	// WrappedDEK is the current key envelope (ciphertext); a rewrap
	// supersedes it here.
	WrappedDEK []byte
	// KMSContext is the KMS encryption context the DEK is wrapped under,
	// canonically encoded (kms/recordingkey.Marshal); nil: the legacy
	// context {org, recording, policy}.
	KMSContext []byte
	ObjectKey  string
	Status     string
	Chunks     int64
	Bytes      int64
	SHA256     string
	StartedAt  time.Time
	EndedAt    time.Time // zero while ACTIVE
	DurableAt  time.Time // when the last counted chunk became durable
	GatewayID  string
	UpdatedAt  time.Time
	// RetainUntil is fixed when the recording is created (policy
	// retentionDays, else the organisation default); zero: no retention.
	// No store method changes it: on S3 the object's lock retention holds
	// the same date, so editing this column cannot delete early.
	RetainUntil time.Time
	// DeletedAt is when the retention sweeper deleted the recording's
	// objects (status DELETED): the row stays as a tombstone, without the
	// wrapped DEK, and DeletionProof (JSON) names what was deleted.
	DeletedAt     time.Time
	DeletionProof string
}

// RecordingFilter selects recordings; zero fields do not filter.
type RecordingFilter struct {
	CallID  string
	AgentID string
	// Caller matches the index's normalised caller exactly: normalise it
	// as the index did (recording.NormalizeCaller).
	Caller    string
	QueueID   string
	KeyID     string
	Status    string
	GatewayID string
	// From and To bound StartedAt: From <= StartedAt < To.
	From, To time.Time
	// Limit caps the result (default and maximum MaxListLimit).
	Limit int
	// After is the id of the last recording of the previous page.
	After string
	// Cursor, when set, is the (StartedAt, ID) of the last recording of
	// the previous page: the keyset the list is ordered by, so a page
	// never depends on a row that may since have been deleted.
	Cursor *Position
	// AwaitingRecovery keeps only ACTIVE recordings whose gateway lost its
	// lease (gateways.go).
	AwaitingRecovery bool
}

// Position is a recording's place in the list order (started_at, id).
type Position struct {
	StartedAt time.Time
	ID        string
}

// MaxListLimit is the largest page ListRecordings returns.
const MaxListLimit = 1000

// StoredPolicy is one version of a policy. Policy.ID and Policy.Version are
// set from the store.
type StoredPolicy struct {
	policy.Policy
	// CreatedAt is when the policy (version 1) was created.
	CreatedAt time.Time
	// UpdatedAt is when this version was written.
	UpdatedAt time.Time
	// DeletedAt is non-zero once the policy was deleted.
	DeletedAt time.Time
}

// Key binding statuses.
const (
	BindingNone   = ""
	BindingBound  = "BOUND"
	BindingFailed = "FAILED"
)

// Key is a registered key reference.
type Key struct {
	ID   string
	Name string
	// KeyType is the provider type (AWS_KMS, PKCS11, VAULT, PLATFORM).
	KeyType string
	Region  string
	// Ref is the provider's reference: an ARN, a Vault key name or a
	// PKCS#11 label.
	Ref            string
	Description    string
	State          string
	EncryptionType string
	Rotation       Rotation
	Binding        Binding
	// Version counts changes to the row.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Rotation holds a key's rotation settings.
type Rotation struct {
	AutoRotate bool
	PeriodDays int
}

// Binding is the result of the last bind handshake with the provider.
type Binding struct {
	Status    string // BindingBound or BindingFailed
	CheckedAt time.Time
	BoundAt   time.Time // when the key was last bound successfully
	// KMSState, KMSRegion and KMSVersion are what the provider's Describe
	// reported.
	KMSState   string
	KMSRegion  string
	KMSVersion string
	// Error says why the bind failed.
	Error string
}
