// Package media is the per-call side of mediaseal: call sessions and their
// tracks, RTP ingest over UDP (github.com/pion/rtp), secure pause, and the
// per-call recorder that buffers media while the DEK is fetched and then
// streams it through a seal.Writer into the durable spool.
//
// The per-packet path does one read syscall and, once the DEK has arrived,
// no allocation: packets are copied straight into the chunk being sealed.
// Everything that may block (KMS, fsync, upload, index) runs elsewhere.
package media
