// Package broker obtains the data key (DEK) of each recording without ever
// blocking the media path.
//
// [Broker.Acquire] returns a [Pending] at once and works in the background;
// the recorder buffers media until Pending is done. Each request is bounded
// by [Config.Timeout] (default 5 s). When the customer's key cannot be used
// in time, the request's [OnKeyUnavailable] decides:
//
//   - [PlatformKey]: the DEK is generated under the platform key instead;
//     the [Result] says Fallback with the reason, so the recording header
//     names the key actually used, and the audit hook and metrics record it.
//   - [FailClosed]: Acquire fails with [ErrFailClosed] wrapping the cause,
//     and the call is not recorded.
//
// A circuit breaker per key reference opens after [Config.BreakerFailures]
// consecutive availability failures (timeouts, unreachable, throttled):
// while open, new requests go to their fallback at once instead of each
// waiting the full timeout. After [Config.BreakerCooldown] one request
// probes the key (half-open); its success closes the breaker, its failure
// opens it again. Errors that say the KMS answered (disabled, not found,
// access denied) do not trip the breaker, but they still take the fallback
// path of the request: the Result's Reason and Cause say which.
//
// # Pre-fetch pool
//
// A key may have a pool ([Config.Pools], [Broker.EnsurePool]): DEKs
// generated ahead so that session start does not wait on the KMS at all.
// Each pooled DEK is handed out exactly once and the pool refills in the
// background. A pre-fetched DEK is generated before its recording exists,
// so KMS cannot bind it to the recording id: it is generated under the
// context [PoolSpec.NewContext] returns (the gateway's is org, key and a
// unique DEK id, see kms/recordingkey), and only serves requests whose
// context contains every pair of [PoolSpec.Context] (the org). The
// [Result.Context] is what the wrapped DEK is bound to; the recording
// header (seal format version 2) and the index record it, and whoever
// unwraps checks its org against the recording's before asking the KMS.
// The recording id is bound to the media by the recording format (HKDF
// salt and header MAC); a KMS audit trail (e.g. CloudTrail) shows the
// org, key and DEK id, which the index maps to the recording. Pooled
// plaintext DEKs wait in secmem buffers (out of core dumps) until used
// or wiped by Close.
package broker
