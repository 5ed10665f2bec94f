package media

import (
	"net/netip"
	"time"
)

// udpHandler receives each datagram read from a media socket. b is only
// valid during the call; at is when the datagram was read. Handlers run on
// the ingest loop and must not block.
type udpHandler func(b []byte, from netip.AddrPort, at time.Time)

// pollInterval is how long an ingest loop sleeps between two polls of its
// sockets while media flows. Waking once per interval for every socket that
// became readable, instead of once per datagram, is what lets one core
// receive hundreds of thousands of datagrams per second; it adds at most
// this much to a packet's ingest lag.
const pollInterval = time.Millisecond

// idlePolls is how many empty polls in a row put a loop to sleep in the
// kernel until a datagram arrives (an idle gateway does not spin).
const idlePolls = 100

// readBatch is the most datagrams taken from one socket per system call.
const readBatch = 8
