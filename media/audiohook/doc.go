// Package audiohook records calls a Genesys AudioHook Monitor client
// streams (docs/audiohook.md): the signed WebSocket upgrade ([Verifier]),
// the message state machine, and stereo PCMU split into the caller and
// agent tracks of a media session, placed by the protocol's position.
package audiohook
