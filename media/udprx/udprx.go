// Package udprx receives UDP datagrams on many sockets with few threads
// and few system calls: the media path of a gateway that holds one RTP and
// one RTCP socket per call track, thousands at a time.
//
// On Linux a [Set] runs event loops over sockets kept outside Go's network
// poller, polled once per millisecond while datagrams flow. Where io_uring
// works (probed once per process) each loop owns a ring with a multishot
// recvmsg armed per socket and a ring of provided buffers, so one
// io_uring_enter per poll receives for every readable socket: no system
// call per datagram. Elsewhere, or with MEDIASEAL_UDPRX=epoll, each loop
// polls an epoll set and reads each readable socket with one recvmmsg
// (MEDIASEAL_UDPRX=uring forces io_uring). Other systems get a goroutine
// per socket reading through the network poller.
package udprx

import (
	"net/netip"
	"time"
)

// Handler receives each datagram read from a socket. b is only
// valid during the call; at is when the datagram was read. Handlers run on
// a loop shared by many sockets and must not block.
type Handler func(b []byte, from netip.AddrPort, at time.Time)

// pollInterval is how long a loop sleeps between two polls of its
// sockets while media flows. Waking once per interval for every socket that
// became readable, instead of once per datagram, is what lets one core
// receive hundreds of thousands of datagrams per second; it adds at most
// this much to a datagram's delay.
const pollInterval = time.Millisecond

// idlePolls is how many empty polls in a row put a loop to sleep in the
// kernel until a datagram arrives (an idle process does not spin).
const idlePolls = 100

// MaxDatagram is the largest datagram handed over whole; a longer one is
// handed over cut to exactly MaxDatagram bytes, so a handler can tell.
const MaxDatagram = 1600

// readBatch is the most datagrams taken from one socket per system call.
const readBatch = 8
