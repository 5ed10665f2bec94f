package udprx

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Set owns the event loops that read its sockets: io_uring loops
// (loop_uring_linux.go) or epoll loops, chosen when the Set is made (see
// backend_linux.go). Each epoll loop has
// its own epoll set, polled (not woken per datagram) while media flows:
// one epoll_wait per pollInterval returns every socket that became
// readable, and one recvmmsg per socket reads what it holds. The sockets
// are plain non-blocking file descriptors outside Go's network poller, so
// a datagram costs neither a goroutine wake-up nor, on the sending side, a
// wake-up of a sleeping reader.
type Set struct {
	loops  []*loop  // epoll backend
	uloops []*uloop // io_uring backend
	// ubufs is the buffer ring size of the uring loops (0: uringBufs);
	// tests shrink it to run the ring dry.
	ubufs int
	next  atomic.Uint32
}

// New returns a Set on the backend chosen by MEDIASEAL_UDPRX or, unset,
// the default for this kernel.
func New() *Set { return newSet(chooseBackend()) }

// Backend names how the Set reads: "uring" or "epoll".
func (in *Set) Backend() string {
	if in.uloops != nil {
		return backendUring.String()
	}
	return backendEpoll.String()
}

func newSet(b backend) *Set {
	n := loopsFor(runtime.GOMAXPROCS(0))
	if b == backendUring {
		return &Set{uloops: make([]*uloop, n)}
	}
	return &Set{loops: make([]*loop, n)}
}

// loop is one epoll set and the goroutine that serves it.
type loop struct {
	epfd, wakefd int
	done         chan struct{}
	stopping     atomic.Bool

	// mu is held while a round of datagrams is dispatched; closing a
	// socket takes it, so no handler of a closed socket runs afterwards.
	mu    sync.Mutex
	socks map[int32]*Socket
	batch *mmsgBatch
}

// Socket is one media socket, served by an epoll loop (l) or an io_uring
// loop (u).
type Socket struct {
	fd   int
	port int
	l    *loop
	u    *uloop
	h    Handler
	// started is set once the socket is in its loop's epoll set or ring.
	started bool

	// Owned by the uring loop's goroutine: the socket's user_data, whether
	// its multishot receive is submitted and not yet ended, whether it is
	// being closed, and whether its remaining datagrams are dropped.
	id                   uint64
	armed, closing, drop bool
}

func (in *Set) pickU() (*uloop, error) {
	i := int(in.next.Add(1)) % len(in.uloops)
	if l := in.uloops[i]; l != nil {
		return l, nil
	}
	startMu.Lock()
	defer startMu.Unlock()
	if in.uloops[i] == nil {
		l, err := startUloop(in.ubufs)
		if err != nil {
			return nil, err
		}
		in.uloops[i] = l
	}
	return in.uloops[i], nil
}

func (in *Set) pick() (*loop, error) {
	i := int(in.next.Add(1)) % len(in.loops)
	if in.loops[i] != nil {
		return in.loops[i], nil
	}
	// Loops start on first use, so a manager that never opens a socket
	// runs no loop goroutine.
	return in.start(i)
}

var startMu sync.Mutex

func (in *Set) start(i int) (*loop, error) {
	startMu.Lock()
	defer startMu.Unlock()
	if in.loops[i] != nil {
		return in.loops[i], nil
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("udprx: epoll: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("udprx: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, fmt.Errorf("udprx: epoll: %w", err)
	}
	l := &loop{epfd: epfd, wakefd: wakefd, done: make(chan struct{}), socks: map[int32]*Socket{}, batch: newMmsgBatch()}
	go l.run()
	in.loops[i] = l
	return l, nil
}

// Stop ends every loop (after the sockets are closed).
func (in *Set) Stop() {
	startMu.Lock()
	defer startMu.Unlock()
	for i, l := range in.uloops {
		if l != nil {
			l.stop()
			in.uloops[i] = nil
		}
	}
	for i, l := range in.loops {
		if l == nil {
			continue
		}
		l.stopping.Store(true)
		one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
		_, _ = unix.Write(l.wakefd, one)
		<-l.done
		unix.Close(l.epfd)
		unix.Close(l.wakefd)
		in.loops[i] = nil
	}
}

// Listen binds a non-blocking UDP socket on ap with a receive buffer of
// rcvbuf bytes (0: the system default). It is read once started.
func (in *Set) Listen(ap netip.AddrPort, rcvbuf int) (*Socket, error) {
	var l *loop
	var u *uloop
	var err error
	if in.uloops != nil {
		u, err = in.pickU()
	} else {
		l, err = in.pick()
	}
	if err != nil {
		return nil, err
	}
	addr := ap.Addr().Unmap()
	fam := unix.AF_INET
	if addr.Is6() {
		fam = unix.AF_INET6
	}
	fd, err := unix.Socket(fam, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, fmt.Errorf("udprx: socket: %w", err)
	}
	var sa unix.Sockaddr
	if fam == unix.AF_INET {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: addr.As4()}
	} else {
		if addr.IsUnspecified() {
			_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0) // dual stack, as net.ListenUDP
		}
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: addr.As16()}
	}
	if rcvbuf > 0 {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("udprx: bind %s: %w", ap, err)
	}
	port := int(ap.Port())
	if bound, err := unix.Getsockname(fd); err == nil {
		switch a := bound.(type) {
		case *unix.SockaddrInet4:
			port = a.Port
		case *unix.SockaddrInet6:
			port = a.Port
		}
	}
	return &Socket{fd: fd, port: port, l: l, u: u}, nil
}

// Port is the socket's local port.
func (s *Socket) Port() int { return s.port }

// Start hands the socket's datagrams to h from now on.
func (s *Socket) Start(h Handler) error {
	if s.u != nil {
		// Queued, not waited for: the loop arms the socket within a poll
		// (datagrams wait in the socket meanwhile), and a later Close is
		// served after it.
		return s.u.request(&ureq{s: s, start: true, h: h}, true)
	}
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	s.h = h
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(s.fd)}
	if err := unix.EpollCtl(s.l.epfd, unix.EPOLL_CTL_ADD, s.fd, &ev); err != nil {
		return fmt.Errorf("udprx: epoll add: %w", err)
	}
	s.l.socks[int32(s.fd)] = s
	s.started = true
	return nil
}

// Close removes the socket from its loop and closes it. With drain, the
// datagrams the kernel still holds for it are handed to the handler first.
// No handler call for the socket runs after close returns.
func (s *Socket) Close(drain bool) {
	if s.u != nil {
		_ = s.u.request(&ureq{s: s, drain: drain}, false) // fails only once the loop is stopped: nothing reads s then
		unix.Close(s.fd)
		return
	}
	s.l.mu.Lock()
	if s.started {
		_ = unix.EpollCtl(s.l.epfd, unix.EPOLL_CTL_DEL, s.fd, nil)
		delete(s.l.socks, int32(s.fd))
		if drain {
			for s.l.batch.read(s) == readBatch {
			}
		}
		s.started = false
	}
	s.l.mu.Unlock()
	unix.Close(s.fd)
}

func (l *loop) run() {
	defer close(l.done)
	events := make([]unix.EpollEvent, 1024)
	idle := 0
	for {
		timeout := 0
		if idle >= idlePolls {
			timeout = -1 // idle: sleep in the kernel until a datagram or stop
		}
		n, err := unix.EpollWait(l.epfd, events, timeout)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			// EBADF/EINVAL only if the epoll set is gone: nothing to serve.
			return
		}
		if l.stopping.Load() {
			return
		}
		if n == 0 {
			idle++
			if timeout == 0 && idle < idlePolls {
				time.Sleep(pollInterval)
			}
			continue
		}
		idle = 0
		l.mu.Lock()
		for _, ev := range events[:n] {
			if s := l.socks[ev.Fd]; s != nil {
				// A socket holding a full batch stays readable: the
				// next poll (level-triggered) reads the rest.
				l.batch.read(s)
			}
		}
		l.mu.Unlock()
		if n < len(events) {
			time.Sleep(pollInterval)
		}
	}
}

// mmsgBatch is the reusable recvmmsg state of one loop.
type mmsgBatch struct {
	hdrs  [readBatch]unix.Mmsghdr
	iovs  [readBatch]unix.Iovec
	names [readBatch]unix.RawSockaddrAny
	bufs  [readBatch][MaxDatagram]byte
}

func newMmsgBatch() *mmsgBatch {
	b := new(mmsgBatch)
	for i := range b.hdrs {
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(MaxDatagram)
		b.hdrs[i].Hdr.Iov = &b.iovs[i]
		b.hdrs[i].Hdr.Iovlen = 1
		b.hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&b.names[i]))
	}
	return b
}

// read takes up to readBatch datagrams from s with one recvmmsg and hands
// them to its handler; it returns how many it read.
func (b *mmsgBatch) read(s *Socket) int {
	for i := range b.hdrs {
		b.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrAny
		b.hdrs[i].Hdr.Flags = 0
	}
	r, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&b.hdrs[0])),
		readBatch, unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return 0 // EAGAIN, or an ICMP-induced error: the next poll tries again
	}
	n := int(r)
	at := time.Now()
	for i := range n {
		size := int(b.hdrs[i].Len)
		if b.hdrs[i].Hdr.Flags&unix.MSG_TRUNC != 0 {
			size = MaxDatagram // counted as malformed, as an over-long read
		}
		s.h(b.bufs[i][:size], sockaddrPort(&b.names[i]), at)
	}
	return n
}

// sockaddrPort converts a kernel socket address (network byte order port).
func sockaddrPort(sa *unix.RawSockaddrAny) netip.AddrPort {
	switch sa.Addr.Family {
	case unix.AF_INET:
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		port := (*[2]byte)(unsafe.Pointer(&p.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(p.Addr), uint16(port[0])<<8|uint16(port[1]))
	case unix.AF_INET6:
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(sa))
		port := (*[2]byte)(unsafe.Pointer(&p.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(p.Addr).Unmap(), uint16(port[0])<<8|uint16(port[1]))
	}
	return netip.AddrPort{}
}
