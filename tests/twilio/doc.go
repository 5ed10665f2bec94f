// Package twilio holds end-to-end tests of Twilio Media Streams ingest on
// a running gateway: a client replays a stream recorded as Twilio
// documents its messages (testdata/stream.jsonl), authenticated by
// X-Twilio-Signature or a bearer token, and the recording must export
// with each tone on its channel and the stream's true duration.
// The tests live in _test.go files and drive gateways through
// tests/gatewaytest; this package has no code of its own.
package twilio
