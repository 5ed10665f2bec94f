// Package srtp receives SDES-keyed SRTP and SRTCP (RFC 3711, RFC 4568,
// RFC 7714) for the session API and SIPREC: the a=crypto attribute parser
// and generator, and a per-track Receiver that authenticates, replay-checks
// and decrypts each packet before it reaches the recorder.
//
// The master key lives in memory only. No error string, log line or
// String method of this package contains key material: an attribute that
// fails to parse is described by its field, never by its value.
package srtp
