// Package recordingkey is the one place that knows how a recording's DEK
// is bound to the KMS: the encryption context it is wrapped under, the
// mapping between a seal envelope and a KMS key reference, and generate,
// unwrap and rewrap for media, playback, jobs and recovery.
//
// Two contexts exist. A DEK generated for a recording is wrapped under
// [ForRecording] {org, policy, recording}. A DEK generated ahead of any
// recording (the broker's pre-fetch pool) is wrapped under [Pooled]
// {org, key, dek}: it cannot name the recording, which does not exist yet,
// so it names a random id of its own. Either way the context is recorded in
// the seal header (format version 2) and, for index-only operations
// (rewrap jobs), in the index. A version 1 header records none: its DEK was
// wrapped under {org, recording, policy}.
//
// A recorded context is read before the DEK that authenticates it is
// known, so [UnwrapContext] checks what it claims (org, and policy or
// recording where it names them) against what the caller's index says of
// the recording before anything asks the KMS: a header copied from another
// tenant's recording is refused with [ErrContextMismatch] instead of
// making this gateway unwrap that tenant's DEK with its own permissions.
//
// The package takes kms providers through the kms contract and never
// imports an adapter.
package recordingkey
