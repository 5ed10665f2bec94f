// Package audiohook is the start of mediaseal's Genesys AudioHook Monitor
// ingest (issue 20). So far it holds only the strict parser of the
// protocol's JSON message envelope ([Parse]) and of the
// Signature-Input header AudioHook signs its upgrade with ([ParseSigInput]); the WebSocket server, the
// state machine, the signature verification and the gateway wiring are not built
// yet.
package audiohook
