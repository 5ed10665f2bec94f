// Package ceremony holds end-to-end tests of the ceremony's control plane on a running gateway: quorum approvals, the gates against a single principal, policy and key binding, the audit log and its anchor, scheduled approvals, the API's TLS.
// The tests live in _test.go files and drive gateways through
// tests/gatewaytest; this package has no code of its own.
package ceremony
