// Package console serves the ceremony's web console at /console/: static
// HTML, one stylesheet and one hand-written JavaScript module, embedded in
// the binary (no build step at run time).
//
// The console holds no authority of its own. It signs in with a
// principal's client credentials through the OAuth2 client-credentials
// endpoint, keeps the token in a JavaScript variable of the tab (never in
// storage or a cookie) and does every action through /api/v2, the API the
// CLI uses: what a principal may see or do is decided there, and a section
// whose API answers 403 is hidden. Because the API authenticates a bearer
// header only, a page of another origin cannot make the browser act for a
// signed-in user (no ambient credentials: CSRF-safe by construction).
//
// Every response carries a Content-Security-Policy without 'unsafe-inline'
// (the pages have no inline script or style), frame-ancestors 'none',
// Referrer-Policy no-referrer and nosniff; see [Handler].
package console
