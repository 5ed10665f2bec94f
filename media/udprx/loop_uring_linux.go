//go:build linux && (amd64 || arm64)

package udprx

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// uringBuilt: the io_uring backend exists on this architecture.
const uringBuilt = true

// Sizes of one uring loop.
const (
	// uringBufs buffers of uringBufSize bytes are lent to the kernel (8 MiB
	// per loop): at 100,000 datagrams/s and one reap per millisecond some
	// 100 are in use at a time, so the ring runs dry (ENOBUFS, counted and
	// re-armed, nothing lost while the socket buffers hold) only when a
	// loop falls seconds behind.
	uringBufs    = 4096
	uringBufSize = 2048
	// uringName is the room for the source address in each buffer
	// (msghdr.msg_namelen): sizeof(struct sockaddr_in6).
	uringName = unix.SizeofSockaddrInet6
	// uringPayload is where the datagram starts in a buffer: after the
	// io_uring_recvmsg_out header, the name room and no control room.
	uringPayload = recvmsgOutSize + uringName
	// uringSQ submission entries: re-arming every socket after an ENOBUFS
	// burst takes one each; more wait for the next round.
	uringSQ = 4096
	// uringCQ completion entries: at most one per lent buffer, plus the
	// final (re-arm) completions, cancels and wake-ups.
	uringCQ = 4 * uringBufs
)

var _ = [1]struct{}{}[(uringBufSize-uringPayload-MaxDatagram)>>63] // a buffer holds a whole MaxDatagram

// user_data of the entries that are not a socket's receive.
const (
	udWake   = 1 << 63
	udCancel = 1 << 62
)

// uloop is one io_uring and the goroutine, locked to its thread, that owns
// it: only that thread submits (SINGLE_ISSUER) and, with DEFER_TASKRUN,
// only its io_uring_enter calls do the receive work, once per poll for
// every socket that became readable. Sockets are added and removed by
// requests the loop serves between two polls.
type uloop struct {
	nbufs    int // a power of two
	wakefd   int
	done     chan struct{}
	stopping atomic.Bool
	asleep   atomic.Bool   // the loop is (about to be) blocked until a completion
	enobufs  atomic.Uint64 // multishot receives ended for want of a buffer
	rearms   atomic.Uint64 // multishot receives submitted again after they ended
	errs     atomic.Uint64 // receives ended by another error (cancels excluded)
	rounds   atomic.Uint64 // polls (the benchmark reports datagrams per poll)
	flags    atomic.Uint32 // the setup flags the kernel accepted

	// mu is held while a round of completions is dispatched (as loop.mu).
	mu sync.Mutex

	reqMu  sync.Mutex
	reqs   []*ureq
	exited bool // the loop has returned: requests fail at once

	// The rest belongs to the loop goroutine.
	r         *ring
	br        *bufRing
	ctl       []byte // mmap'd: the msghdr the receives share, the wake buffer
	socks     map[uint64]*Socket
	nextID    uint64
	rearm     []*Socket // sockets whose receive must be (re)submitted
	wakeArmed bool
	batch     *mmsgBatch
	at        time.Time // when the datagrams of this reap were taken
}

// ureq asks the loop to start or close a socket.
type ureq struct {
	s            *Socket
	start, drain bool
	h            Handler
	done         chan error
}

var errLoopStopped = errors.New("udprx: loop stopped")

// startUloop sets up a ring on a new locked goroutine and returns once it
// serves (or failed to set up).
func startUloop(nbufs int) (*uloop, error) {
	if nbufs <= 0 {
		nbufs = uringBufs
	}
	// The wake-up: a read of this eventfd stays armed on the ring, so a
	// loop asleep in io_uring_enter(min_complete 1) wakes when a request
	// is queued or Stop is called. It is a blocking eventfd on purpose:
	// io_uring would hand -EAGAIN back for an O_NONBLOCK one instead of
	// waiting for it to become readable. (Alternatives: a timeout through
	// IORING_ENTER_EXT_ARG delays every request by up to that timeout;
	// MSG_RING needs a second ring per requester.)
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("udprx: eventfd: %w", err)
	}
	l := &uloop{nbufs: nbufs, wakefd: wakefd, done: make(chan struct{}), socks: map[uint64]*Socket{}, batch: newMmsgBatch(), nextID: 1}
	ready := make(chan error, 1)
	go l.run(ready)
	if err := <-ready; err != nil {
		unix.Close(wakefd)
		return nil, err
	}
	return l, nil
}

// setup runs on the loop's locked thread.
func (l *uloop) setup() error {
	r, err := newRing(uringSQ, uringCQ)
	if err != nil {
		return err
	}
	br, err := newBufRing(r, 0, l.nbufs, uringBufSize)
	if err != nil {
		r.close()
		return err
	}
	ctl, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		r.close()
		br.free()
		return fmt.Errorf("udprx: mmap: %w", err)
	}
	// The msghdr of every multishot receive: only msg_namelen and
	// msg_controllen matter (they size the room before the payload in
	// each buffer); no iovec, the buffer comes from the buffer ring. The
	// kernel copies it when the receive is submitted.
	msg := (*unix.Msghdr)(unsafe.Pointer(&ctl[0]))
	msg.Namelen = uringName
	l.r, l.br, l.ctl = r, br, ctl
	l.flags.Store(r.flags)
	return nil
}

func (l *uloop) teardown() {
	l.r.close() // cancels every request and frees the registered buffer ring
	l.br.free()
	_ = unix.Munmap(l.ctl)
}

func (l *uloop) run(ready chan<- error) {
	// The ring belongs to this thread for its whole life (SINGLE_ISSUER,
	// DEFER_TASKRUN): keep the goroutine on it. The thread is released
	// after the ring is closed.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := l.setup(); err != nil {
		ready <- err
		return
	}
	ready <- nil
	defer func() {
		l.reqMu.Lock()
		l.exited = true
		for _, q := range l.reqs {
			q.done <- errLoopStopped
		}
		l.reqs = nil
		l.reqMu.Unlock()
		l.teardown()
		close(l.done)
	}()
	idle := 0
	for {
		l.serve()
		if l.stopping.Load() {
			return
		}
		l.submit()
		block := idle >= idlePolls // idle: sleep until a datagram or a request
		if block {
			// Requesters wake the loop only while it sleeps (see request);
			// a request queued before asleep was set is served first.
			l.asleep.Store(true)
			l.reqMu.Lock()
			queued := len(l.reqs) > 0
			l.reqMu.Unlock()
			if queued {
				l.asleep.Store(false)
				continue
			}
		}
		// One enter per poll: it submits the re-arms and runs the receive
		// work of every socket that became readable since the last one.
		var err error
		if block {
			err = l.r.enter(1)
		} else if ok, e := l.r.enterAll(uringCQ); ok {
			err = e
		} else {
			err = l.r.enter(0) // no DEFER_TASKRUN: all the work runs on the way out
		}
		l.asleep.Store(false)
		l.rounds.Add(1)
		if err != nil {
			time.Sleep(pollInterval) // not expected: the ring is ours and alive
			continue
		}
		l.mu.Lock()
		n := l.reap()
		l.mu.Unlock()
		if n > 0 {
			idle = 0
		} else {
			idle++
		}
		if idle < idlePolls {
			time.Sleep(pollInterval)
		}
	}
}

// request hands q to the loop, waking it if it sleeps, and waits for it
// to be served unless async. A loop that polls serves it within a
// pollInterval; one that sleeps in the kernel is woken through the
// eventfd. The check of asleep after queueing, paired with the loop's
// check of the queue after setting it (both under reqMu's ordering),
// means one of the two always sees the other: no request waits for
// traffic to wake the loop.
func (l *uloop) request(q *ureq, async bool) error {
	q.done = make(chan error, 1)
	l.reqMu.Lock()
	if l.exited {
		l.reqMu.Unlock()
		return errLoopStopped
	}
	l.reqs = append(l.reqs, q)
	l.reqMu.Unlock()
	if l.asleep.Load() {
		l.wake()
	}
	if async {
		return nil
	}
	return <-q.done
}

func (l *uloop) wake() {
	one := [8]byte{1}
	_, _ = unix.Write(l.wakefd, one[:])
}

func (l *uloop) stop() {
	l.stopping.Store(true)
	l.wake()
	<-l.done
	unix.Close(l.wakefd)
}

// serve runs the queued start and close requests.
func (l *uloop) serve() {
	l.reqMu.Lock()
	reqs := l.reqs
	l.reqs = nil
	l.reqMu.Unlock()
	for _, q := range reqs {
		if q.start {
			s := q.s
			s.h, s.id = q.h, l.nextID
			l.nextID++
			l.socks[s.id] = s
			s.started = true
			l.rearm = append(l.rearm, s)
			q.done <- nil
		} else {
			l.close(q.s, q.drain)
			q.done <- nil
		}
	}
}

// close takes s out of the loop; with drain, every datagram the kernel
// holds for it, in completions already posted or still in the socket,
// goes to its handler first, in order.
func (l *uloop) close(s *Socket, drain bool) {
	if !s.started {
		return
	}
	s.closing, s.drop = true, !drain
	if s.armed {
		// Cancel the multishot receive (matched by its user_data) and
		// wait for its final completion, dispatching meanwhile whatever
		// the ring posts, this socket's datagrams included. The cancel
		// is submitted after any receive queued for s, so it finds it.
		for {
			if e := l.r.sqe(); e != nil {
				e.opcode = opAsyncCancel
				e.fd = -1
				e.addr = s.id
				e.userData = udCancel | s.id
				break
			}
			l.mu.Lock()
			l.reap()
			l.mu.Unlock()
		}
		for s.armed {
			if err := l.r.enter(1); err != nil {
				break
			}
			l.mu.Lock()
			l.reap()
			l.mu.Unlock()
		}
	}
	if drain {
		// What the socket still holds: read without io_uring, on this
		// thread, until it is empty.
		for l.batch.read(s) == readBatch {
		}
	}
	delete(l.socks, s.id)
	s.started = false
}
