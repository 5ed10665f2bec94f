// Package cluster holds end-to-end tests of several gateways on one PostgreSQL: shared index and policies, leases and the recovery of a silent member, a first start of gateways started together.
// The tests live in _test.go files and drive gateways through
// tests/gatewaytest; this package has no code of its own.
package cluster
