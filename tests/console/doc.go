// Package console holds end-to-end tests of the web console on a running
// gateway, driven in headless Chromium (chromedp): sign-in per principal
// in separate browser contexts, a playback proposed, approved by two
// approvers and played in the page, the audit log verified and then
// tampered with, what a policy administrator is not shown, an axe-core
// accessibility check and a screenshot of each page; and the playback
// API's byte ranges. The tests live in _test.go files and drive gateways
// through tests/gatewaytest; this package has no code of its own.
package console
