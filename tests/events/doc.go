// Package events holds end-to-end tests of the lifecycle-event outbox
// (ceremony/events) on the real control-plane store (PostgreSQL opened by
// ceremony/store, migrations and all) against a real webhook receiver:
// node running the npm standardwebhooks package, a verifier written apart
// from this project; and the subscriptions API on a running gateway
// (scopes, refusals, audit). The tests live in _test.go files.
package events
