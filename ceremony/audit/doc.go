// Package audit is the tamper-evident audit log of the control plane.
//
// Every security-relevant event (tokens issued or refused, keys registered,
// bound, disabled, policies changed, approvals proposed, approved, vetoed,
// expired and executed, DEK fallbacks, playbacks) is appended by [Log.Record]
// as an entry that commits to the hash of the previous one: SHA-256 over a
// length-prefixed encoding of its sequence number, id, time, actor, action,
// target, outcome, details and the previous hash. [Log.Checkpoint] signs the
// head of the chain (sequence number and hash) with the organisation's
// Ed25519 audit key; the log checkpoints every [Options.CheckpointEvery]
// entries and whenever [Log.Run]'s ticker finds the head moved.
//
// [VerifyStore] and [VerifyExport] recompute the chain offline and report the
// first broken entry: an edited entry fails its own hash, a removed one
// leaves a gap in the sequence, a reordered one fails its hash and the next
// entry's link, and a chain rewritten from some entry on no longer matches
// the signed checkpoint that covers it.
//
// Checkpoints in the database prove nothing against its holder, who can
// delete the last ones with their entries. So every signed head is also
// published to an [Anchor] outside the database (a local append-only
// [FileAnchor], or an S3 bucket with object lock in package s3anchor), at
// once for [Sensitive] actions, and verification checks the chain against
// the anchored heads under keys given out of band: a head anchored beyond
// the database's last entry names the first missing one. Non-sensitive
// entries after the newest anchored head can still be cut unnoticed until
// the next checkpoint; keep the checkpoint interval short.
package audit
