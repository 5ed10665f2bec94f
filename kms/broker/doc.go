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
// # Pre-fetch pool and its trade-off
//
// A key may have a pool ([Config.Pools]): a few DEKs generated ahead so
// that session start does not wait on the KMS at all. Each pooled DEK is
// handed out exactly once and the pool refills in the background. The
// trade-off is the encryption context: a pre-fetched DEK is generated
// before the recording exists, so KMS cannot bind it to the recording id.
// Its context carries only what the pool was configured with (organisation,
// policy, key), and a pooled DEK is used only for requests whose context
// contains every pair of the pool's context. [Result.Context] is the
// context the wrapped DEK is actually bound to; the recording header must
// store that one. The recording id is still bound to the media by the
// recording format (HKDF salt and header MAC), but a KMS audit trail
// (e.g. CloudTrail) then shows org/policy/key, not which recording a
// Decrypt was for, and a wrapped DEK could be moved to another recording
// of the same org and policy without KMS noticing. Pooled plaintext DEKs
// also live in memory longer (until used or Close wipes them). Use pools
// where session-start latency matters more than per-recording KMS audit.
package broker
