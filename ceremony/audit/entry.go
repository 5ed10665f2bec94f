package audit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// Outcomes of an event.
const (
	OutcomeSuccess = "success"
	OutcomeRefused = "refused"
	OutcomeFailure = "failure"
)

// Event is what a caller records; the log adds sequence, time and hashes.
type Event struct {
	// Actor is the principal (client id) or "system".
	Actor string
	// Action names what happened, dotted: "key.registered",
	// "approval.approved", "token.refused".
	Action string
	// Target is the object acted on: a key id, policy id, recording id,
	// approval id, principal id.
	Target string
	// Outcome is OutcomeSuccess, OutcomeRefused or OutcomeFailure.
	Outcome string
	// Details are extra fields (never secrets or key material).
	Details map[string]any
}

const (
	entryDomain      = "mediaseal-audit-entry-v1\x00"
	checkpointDomain = "mediaseal-audit-checkpoint-v1\x00"
)

// appendField writes a length-prefixed field so that no two different
// entries encode to the same bytes.
func appendField(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// EntryHash is the hash an entry must carry: it covers every column but
// the hash itself, including the previous entry's hash.
func EntryHash(e store.AuditEntry) string {
	b := []byte(entryDomain)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seq))
	b = appendField(b, e.ID)
	b = binary.BigEndian.AppendUint64(b, uint64(e.At.UnixNano()))
	for _, f := range []string{e.Actor, e.Action, e.Target, e.Outcome, e.Details, e.PrevHash} {
		b = appendField(b, f)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// checkpointMessage is what a checkpoint signature covers.
func checkpointMessage(seq int64, hash string, at time.Time, kid string) []byte {
	b := []byte(checkpointDomain)
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	b = appendField(b, hash)
	b = binary.BigEndian.AppendUint64(b, uint64(at.UnixNano()))
	return appendField(b, kid)
}

// VerifyCheckpoint checks a checkpoint's signature.
func VerifyCheckpoint(c store.AuditCheckpoint, pub ed25519.PublicKey) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, checkpointMessage(c.Seq, c.Hash, c.At, c.Kid), c.Signature)
}
