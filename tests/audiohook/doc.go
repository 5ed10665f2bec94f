// Package audiohook_test drives the gateway's Genesys AudioHook Monitor
// endpoint with a client written here from the protocol's specification:
// the signed upgrade, every message, audio frames and the error paths.
package audiohook
