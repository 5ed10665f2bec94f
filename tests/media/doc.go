// Package media holds end-to-end tests of media ingest on a running gateway: RTP sessions end to end, source latching against injected packets, SIPREC, a full spool disk, the media metrics.
// The tests live in _test.go files and drive gateways through
// tests/gatewaytest; this package has no code of its own.
package media
