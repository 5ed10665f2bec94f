// Package siprec is a SIPREC Session Recording Server (SRS, RFC 7866): SIP
// listeners (UDP, TCP, TLS; github.com/emiago/sipgo) that accept recording
// sessions from SBCs and SIP servers (the SRCs), parse the RFC 7865
// recording metadata, and turn each recording session into a
// [media.Session] whose tracks are labelled from the participants
// (caller, agent) and whose RTP arrives on ports the [media.Manager]
// allocates.
//
// Signalling handled: the initial INVITE (Require: siprec, multipart/mixed
// of SDP and application/rs-metadata+xml), ACK, re-INVITE and UPDATE
// (metadata updates, streams announced in the metadata joining later,
// a=inactive as a secure pause and back), BYE, CANCEL and OPTIONS
// keep-alives. What cannot be handled is refused with the SIP status the
// RFCs name and a Reason header (RFC 3326) that says why; nothing the
// peer sends can crash the server (the parsers are fuzzed).
//
// SRCs are admitted by an IP allow-list, digest authentication, or both.
package siprec
