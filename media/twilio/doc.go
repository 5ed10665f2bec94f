// Package twilio is the server side of Twilio Media Streams: Twilio
// (<Start><Stream> or <Connect><Stream>) opens a WebSocket to the gateway
// and sends a call's μ-law audio as JSON messages. Each stream becomes an
// ordinary media session of the media manager, so queue policies,
// customer keys, fallback and FAIL_CLOSED apply as for any call: the
// inbound track is recorded as the caller, the outbound one as the agent,
// and every chunk is placed by its timestamp, so gaps stay silence.
//
// The upgrade request is authenticated before the upgrade, by a bearer
// token of a principal with media:ingest or by X-Twilio-Signature with
// the account's auth token (Config.Auth). docs/twilio.md says what to
// configure on both sides.
package twilio
