// Package playback opens, verifies and exports sealed recordings, for the
// gateway's playback API, the operator's CLI and the bench alike: none of
// them needs a running gateway, only the object store, the recordings
// index and a way to unwrap a recording's DEK ([Deps]).
//
// Every read is honest about what it read. An export is refused before a
// byte of plaintext is written unless the index says the recording is
// COMPLETE or RECOVERED and the stored object matches the index's size,
// SHA-256 and chunk count ([ErrNotComplete], [ErrIntegrity]); the object
// is checked before its DEK is unwrapped, so a swapped or cut object costs
// no KMS call. A shredded recording ([ErrShredded]) or one whose key the
// registry no longer holds ENABLED (kms.ErrDisabled) is refused before any
// KMS call. A salvage export reads what verifies and says how the read
// departs from the index ([Result]).
//
// The containers are written by package media/export, each by a writer
// fed records or rebuilt frames as they come.
package playback
