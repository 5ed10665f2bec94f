// Package codec turns telephony audio payloads into 16-bit linear PCM.
//
// It covers the G.711 pair carried by almost every SIP trunk: μ-law (PCMU,
// RTP payload type 0) and A-law (PCMA, payload type 8). Decoding is a lookup
// in a 256-entry table built once from the ITU-T G.711 segment rules; the
// encoders exist so tests and load generators can make real payloads.
// [Lookup] maps an SDP encoding name to a [DecodeFunc].
package codec
