// Package export holds end-to-end tests of exporting sealed recordings from a running gateway: honest status under tampering, the export CLI, video containers.
// The tests live in _test.go files and drive gateways through
// tests/gatewaytest; this package has no code of its own.
package export
