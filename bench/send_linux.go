package bench

import (
	"fmt"
	"net/netip"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr: one message of a sendmmsg.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// rawAddr is a destination as the kernel takes it, built once per stream.
type rawAddr struct {
	sa  unix.RawSockaddrInet6 // large enough for either family
	len uint32
}

func newRawAddr(ap netip.AddrPort) rawAddr {
	var r rawAddr
	port := (*[2]byte)(unsafe.Pointer(&r.sa.Port)) // network byte order
	port[0], port[1] = byte(ap.Port()>>8), byte(ap.Port())
	if a := ap.Addr().Unmap(); a.Is4() {
		r.sa.Family = unix.AF_INET
		v4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(&r.sa))
		v4.Addr = a.As4()
		r.len = unix.SizeofSockaddrInet4
		return r
	}
	r.sa.Family = unix.AF_INET6
	r.sa.Addr = ap.Addr().As16()
	r.len = unix.SizeofSockaddrInet6
	return r
}

// sender sends batches with sendmmsg on a blocking socket of its own that
// Go's netpoller does not watch. A watched socket costs an epoll wake-up
// of the netpoller for every datagram the kernel frees (write space),
// which on loopback is every datagram sent.
type sender struct {
	fd   int
	msgs []mmsghdr
	iovs []unix.Iovec
}

func newSender(dest netip.AddrPort, batch int) (*sender, error) {
	family, local := unix.AF_INET6, unix.Sockaddr(&unix.SockaddrInet6{})
	if a := dest.Addr().Unmap(); a.Is4() {
		family, local = unix.AF_INET, &unix.SockaddrInet4{}
		if a.IsLoopback() {
			local = &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
		}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("generator socket: %w", err)
	}
	if err := unix.Bind(fd, local); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("generator bind: %w", err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
	s := &sender{fd: fd, msgs: make([]mmsghdr, batch), iovs: make([]unix.Iovec, batch)}
	for i := range s.msgs {
		s.msgs[i].hdr.Iov = &s.iovs[i]
		s.msgs[i].hdr.SetIovlen(1)
	}
	return s, nil
}

// send hands the batch's packets to the kernel, retrying partial sends; a
// datagram the kernel refuses (ECONNREFUSED from an earlier ICMP, ...) is
// counted and skipped. Each accepted datagram counts for its stream.
func (s *sender) send(batch []*Stream) (sent, failed int) {
	for i, st := range batch {
		b := st.out()
		s.iovs[i].Base = &b[0]
		s.iovs[i].SetLen(len(b))
		s.msgs[i].hdr.Name = (*byte)(unsafe.Pointer(&st.raw.sa))
		s.msgs[i].hdr.Namelen = st.raw.len
	}
	for i := 0; i < len(batch); {
		n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&s.msgs[i])), uintptr(len(batch)-i), 0, 0, 0)
		runtime.KeepAlive(batch)
		switch {
		case errno == 0 && n > 0:
			for _, st := range batch[i : i+int(n)] {
				st.sent++
			}
			sent += int(n)
			i += int(n)
		case errno == unix.EINTR:
		default:
			failed++
			i++
		}
	}
	return sent, failed
}

func (s *sender) close() { unix.Close(s.fd) }

// prioritize gives the calling goroutine's thread the nice value nice and
// keeps the goroutine on it until restore. On Linux a nice value belongs
// to one thread, so only the generator's sending threads are raised, not
// the harness around them or a gateway it spawned. restore puts the
// thread's own value back (lowering priority needs no privilege) before
// the thread returns to the runtime's pool.
func prioritize(nice int) (restore func(), err error) {
	if nice == 0 {
		return func() {}, nil
	}
	runtime.LockOSThread()
	// The system call returns 20 - nice, to keep clear of -1 for errors.
	raw, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err == nil {
		err = unix.Setpriority(unix.PRIO_PROCESS, 0, nice)
	}
	if err != nil {
		runtime.UnlockOSThread()
		return func() {}, err
	}
	return func() {
		if unix.Setpriority(unix.PRIO_PROCESS, 0, 20-raw) == nil {
			runtime.UnlockOSThread()
		}
		// Otherwise the goroutine ends locked and its thread with it.
	}, nil
}
