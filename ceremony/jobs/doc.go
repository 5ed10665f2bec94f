// Package jobs runs the background work of key custody: re-encryption jobs
// that move existing recordings to the current version of their key, the
// rotation scheduler, and crypto-shredding.
//
// A re-encryption job walks the recordings of its scope (policies, start
// time range) in (StartedAt, ID) order and, for each one not already at
// its target:
//
//   - rewrap (the default) replaces only the key envelope in the recordings
//     index through the provider's Rewrap (AWS ReEncrypt; the local keyring
//     and PKCS#11 rewrap inside the provider), so no media byte is read and
//     the plaintext DEK never leaves the KMS where it can;
//   - reseal decrypts the media and seals it again under a new DEK into a
//     new object, verifies that object, switches the index to it and only
//     then deletes the old one.
//
// Every change is committed together with the job's checkpoint in one
// transaction ([store.SQL.CheckpointJob]), so a job resumed after a crash
// or a restart neither repeats nor skips a recording. Jobs are rate
// limited, back off when the KMS throttles, can be cancelled, and report
// counts, bytes, rate and ETA. A dry run only classifies and counts.
//
// [Runner.ShredKey] destroys a key in its provider (every version) and
// marks its recordings SHREDDED. [KeyRotator] rotates keys on demand and
// on their rotation period.
package jobs
