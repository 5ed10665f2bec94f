// Package sessionapi is the HTTP session API of media servers (docs/sessions.md):
// POST /v1/sessions announces a call and returns the ports its RTP goes to;
// GET, DELETE, pause and resume act on it. It is a thin HTTP face of
// [media.Manager]; authorization, errors and body decoding are httpx's.
package sessionapi
