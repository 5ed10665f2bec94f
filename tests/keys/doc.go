// Package keys holds end-to-end tests of recording keys on a running gateway: customer keys in local-kms, KMS outages and fallback, the key life cycle (disable, shred), key versions, rotation and re-encryption jobs, the platform key.
// The tests live in _test.go files and drive gateways through
// tests/gatewaytest; this package has no code of its own.
package keys
