// Package ng is a small client for rtpengine's NG control protocol: one UDP
// datagram per request, holding a cookie, a space and a bencoded
// dictionary; the reply carries the same cookie and a bencoded dictionary
// whose "result" is "ok" (or "pong"), "error" with an "error-reason", or
// "load limit".
//
// The bench drives rtpengine with it to compare rtpengine's recording with
// the gateway's (mediaseal-bench run --peer rtpengine): [Client.Offer] and
// [Client.Answer] set a call up with recording on and return the rewritten
// SDP, from which [MediaPort] reads the port rtpengine allocated;
// [Client.Delete] ends the call, which closes its pcap file.
//
// The bencode codec ([Marshal], [Unmarshal]) covers what NG uses:
// dictionaries, lists, byte strings and integers.
package ng
