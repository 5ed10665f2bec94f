// Package whip holds end-to-end tests of WHIP ingest on a running gateway: the protocol, policies, Opus/VP8/H.264 media, a real Chromium publisher.
// The tests live in _test.go files and drive gateways through
// tests/gatewaytest; this package has no code of its own.
package whip
