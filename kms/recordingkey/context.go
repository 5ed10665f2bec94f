package recordingkey

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// Names of the context pairs.
const (
	NameOrg       = "org"
	NamePolicy    = "policy"
	NameRecording = "recording"
	NameKey       = "key"
	NameDEK       = "dek"
)

// ErrContextMismatch: a recorded context names another org, policy or
// recording than the caller's index does.
var ErrContextMismatch = errors.New("recordingkey: recorded kms context does not match the recording")

// ForRecording is the context of a DEK generated for one recording (and
// the implied context of every version 1 header).
func ForRecording(org, recordingID, policyID string) kms.EncryptionContext {
	return kms.EncryptionContext{NameOrg: org, NameRecording: recordingID, NamePolicy: policyID}
}

// Pooled is the context of a pre-fetched DEK of key for org: dekID is
// unique per DEK (see [NewDEKID]), so no two pooled DEKs share a context
// and a wrapped DEK cannot be passed off as another.
func Pooled(org string, key kms.KeyRef, dekID string) kms.EncryptionContext {
	return kms.EncryptionContext{NameOrg: org, NameKey: key.String(), NameDEK: dekID}
}

// NewDEKID returns a random id for a pooled DEK (128 bits, hex).
func NewDEKID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// Recording is what the caller's index (not the header) says of a
// recording: the values a recorded context must agree with.
type Recording struct {
	ID, OrgID, PolicyID string
	// KMSContext is the context the index recorded with the recording's
	// envelope (nil: none, a row from before format version 2). A pooled
	// DEK's context names no recording, so this is what ties an object to
	// its row: a header must record exactly this context.
	KMSContext kms.EncryptionContext
}

// Check reports whether ec may be used to unwrap rec's DEK: it must name
// rec's org, and where it names a policy or a recording, rec's.
func Check(ec map[string]string, rec Recording) error {
	org, ok := ec[NameOrg]
	if !ok || org != rec.OrgID || rec.OrgID == "" {
		return fmt.Errorf("%w: org %q, recording %s belongs to %q", ErrContextMismatch, org, rec.ID, rec.OrgID)
	}
	if p, ok := ec[NamePolicy]; ok && p != rec.PolicyID {
		return fmt.Errorf("%w: policy %q, recording %s is under %q", ErrContextMismatch, p, rec.ID, rec.PolicyID)
	}
	if r, ok := ec[NameRecording]; ok && r != rec.ID {
		return fmt.Errorf("%w: recording %q, not %s", ErrContextMismatch, r, rec.ID)
	}
	return nil
}

// UnwrapContext returns the context to unwrap the DEK of the recording
// whose header is h: the recorded one (version 2) once [Check] accepts
// it, or the legacy {org, recording, policy} from rec (version 1). Where
// the index recorded a context too, the header's must be the same: an
// object that records another (another recording's object, with its own
// pooled DEK) is refused with ErrContextMismatch.
func UnwrapContext(h *seal.Header, rec Recording) (kms.EncryptionContext, error) {
	if rec.KMSContext != nil && !maps.Equal(h.KMSContext, rec.KMSContext) {
		return nil, fmt.Errorf("%w: the object records kms context %v, the index of recording %s %v",
			ErrContextMismatch, h.KMSContext, rec.ID, rec.KMSContext)
	}
	return Recorded(h.KMSContext, rec)
}

// Recorded is UnwrapContext for a context recorded elsewhere (an index
// row; nil when none was recorded).
func Recorded(recorded map[string]string, rec Recording) (kms.EncryptionContext, error) {
	if recorded == nil {
		return ForRecording(rec.OrgID, rec.ID, rec.PolicyID), nil
	}
	if err := Check(recorded, rec); err != nil {
		return nil, err
	}
	return kms.EncryptionContext(maps.Clone(recorded)), nil
}

// Marshal encodes ec canonically for an index column (the header's
// encoding; nil for an empty context).
func Marshal(ec kms.EncryptionContext) ([]byte, error) {
	if len(ec) == 0 {
		return nil, nil
	}
	return seal.MarshalKMSContext(ec)
}

// Unmarshal decodes what Marshal wrote (nil for nil).
func Unmarshal(b []byte) (kms.EncryptionContext, error) {
	if len(b) == 0 {
		return nil, nil
	}
	c, err := seal.ParseKMSContext(b)
	return kms.EncryptionContext(c), err
}
