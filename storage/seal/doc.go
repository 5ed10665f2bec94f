// Package seal implements the seal recording format: a chunked, streaming
// AES-256-GCM container for call recordings.
//
// A seal object is a header followed by chunks. The header carries the
// recording id, the encryption context ([Context]: org, call, policy,
// tracks) and the key [Envelope] (key reference and wrapped DEK). It is bound
// to the per-recording DEK by a key commitment and an HMAC, both derived
// with HKDF-SHA-256 salted with the recording id, so a wrong key fails
// ([ErrWrongKey]) before any chunk is touched. Each chunk holds a run of
// [Record] values (RTP packets as received, pause/resume markers, events),
// optionally zstd-compressed, sealed with a nonce that encodes its index and
// whether it is the final chunk, under AAD that binds the recording id and
// the chunk's clear prefix. Reordering, dropping, duplicating or splicing
// chunks, flipping bits and truncating are all detected, each reported with
// its own error.
//
// [Writer] streams records in and seals a chunk when it is full or when the
// caller flushes; [Writer.Close] seals the final chunk. [Reader] verifies
// chunks before releasing them, gives random access by chunk index and by
// media time ([Reader.SeekTime]), and in salvage mode ([WithSalvage])
// returns the verified prefix of an object with no final chunk as
// [StatusTruncated]. [Recover] closes a crashed spool file with a
// recovered-final chunk ([StatusRecovered]).
//
// The key envelope is deliberately outside the header MAC: a rewrap stores a
// newer envelope next to the object ([MarshalEnvelope]) or in place
// ([ReplaceEnvelope]) without touching the chunks.
//
// The byte layout, key schedule, limits and security argument are in
// docs/format.md.
package seal
