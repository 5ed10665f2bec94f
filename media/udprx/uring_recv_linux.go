//go:build linux && (amd64 || arm64)

package udprx

// The receive half of a uring loop: arming each socket's multishot
// recvmsg and turning completions into handler calls.

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// submit queues the wake-up read and the receives to (re)arm.
func (l *uloop) submit() {
	if !l.wakeArmed {
		if e := l.r.sqe(); e != nil {
			e.opcode = opRead
			e.fd = int32(l.wakefd)
			e.addr = uint64(uintptr(unsafe.Pointer(&l.ctl[512])))
			e.len = 8
			e.userData = udWake
			l.wakeArmed = true
		}
	}
	keep := l.rearm[:0]
	for i, s := range l.rearm {
		if s.closing || s.armed || !s.started {
			continue
		}
		e := l.r.sqe()
		if e == nil {
			keep = append(keep, l.rearm[i:]...) // SQ full: next round
			break
		}
		e.opcode = opRecvmsg
		e.fd = int32(s.fd)
		e.addr = uint64(uintptr(unsafe.Pointer(&l.ctl[0])))
		e.len = 1
		e.ioprio = recvMultishot
		e.flags = sqeBufferSelect
		e.bufGroup = l.br.bgid
		e.userData = s.id
		s.armed = true
	}
	clear(l.rearm[len(keep):])
	l.rearm = keep
}

// reap dispatches every posted completion and gives the buffers back; it
// returns how many datagrams it handed over.
func (l *uloop) reap() int {
	n := 0
	l.at = time.Time{}
	l.r.reap(func(c *ioUringCqe) {
		switch {
		case c.userData == udWake:
			l.wakeArmed = false
			return
		case c.userData&udCancel != 0:
			return // the cancel's own result: the receive's final completion follows
		}
		s := l.socks[c.userData]
		if c.flags&cqeFBuffer != 0 {
			bid := uint16(c.flags >> cqeBufferShift)
			if s != nil && !s.drop && c.res > 0 {
				l.deliver(s, l.br.buf(bid, int(c.res)))
				n++
			}
			l.br.push(bid) // after the handler: b is only valid during the call
		}
		switch c.res {
		case -int32(unix.ENOBUFS):
			l.enobufs.Add(1)
		case -int32(unix.ECANCELED):
		default:
			if c.res < 0 {
				l.errs.Add(1)
			}
		}
		if c.flags&cqeFMore == 0 && s != nil {
			// The multishot receive ended (no buffer, CQ overflow, cancel,
			// error): re-arm it unless the socket is closing.
			s.armed = false
			if !s.closing {
				l.rearm = append(l.rearm, s)
				l.rearms.Add(1)
			}
		}
	})
	l.br.publish()
	return n
}

// deliver parses one buffer: io_uring_recvmsg_out, then uringName bytes of
// room for the source address, then the payload.
func (l *uloop) deliver(s *Socket, b []byte) {
	if len(b) < uringPayload {
		return
	}
	out := (*[4]uint32)(unsafe.Pointer(&b[0])) // namelen, controllen, payloadlen, flags
	size := int(out[2])
	if size > MaxDatagram || out[3]&unix.MSG_TRUNC != 0 {
		size = MaxDatagram // the contract: an over-long datagram is cut to exactly MaxDatagram
	}
	payload := b[uringPayload:]
	size = min(size, len(payload))
	if l.at.IsZero() {
		l.at = time.Now()
	}
	s.h(payload[:size], sockaddrPort((*unix.RawSockaddrAny)(unsafe.Pointer(&b[recvmsgOutSize]))), l.at)
}
