// Package storage holds end-to-end tests of where recordings go on a running gateway: the S3 upload, crash recovery after SIGKILL, a graceful SIGTERM and a bad config.
// The tests live in _test.go files and drive gateways through
// tests/gatewaytest; this package has no code of its own.
package storage
