//go:build linux && (amd64 || arm64)

package udprx

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ring is one io_uring instance: its submission and completion rings
// mapped into this process. It is not safe for concurrent use: with
// IORING_SETUP_SINGLE_ISSUER only the thread that created it may submit,
// and with DEFER_TASKRUN only that thread produces completions.
type ring struct {
	fd       int
	flags    uint32 // the setup flags the kernel accepted
	features uint32

	// The argument of enterAll, read by the kernel during io_uring_enter:
	// a zero timeout. Kept here, in a heap object, not on a stack.
	arg getEventsArg
	ts  unix.Timespec

	sqMem, cqMem, sqeMem []byte

	// Pointers into the shared rings. The kernel writes sqHead and cqTail
	// and reads sqTail and cqHead concurrently with this process, so they
	// are only accessed with sync/atomic (acquire/release on every
	// architecture Go supports).
	sqHead, sqTail *uint32
	cqHead, cqTail *uint32
	sqMask, cqMask uint32
	sqEntries      uint32
	sqes           []ioUringSqe
	cqes           []ioUringCqe

	// sqLocal is the tail this process has filled up to; enter and
	// enterAll publish it to *sqTail.
	sqLocal uint32
}

// ringSetups are the flag sets tried in order. DEFER_TASKRUN (6.1) makes
// the kernel do the receive work only when this loop enters it with
// GETEVENTS, once per poll for every socket that became readable, instead
// of interrupting the thread per datagram; COOP_TASKRUN (5.19) at least
// spares the interrupt; the last is a plain ring. SUBMIT_ALL (5.18) keeps
// submitting past an SQE that fails.
var ringSetups = []uint32{
	setupSingleIssuer | setupDeferTaskrun | setupSubmitAll,
	setupCoopTaskrun | setupSubmitAll,
	0,
}

// newRing sets up a ring with sq submission entries and cq completion
// entries. The calling goroutine must be locked to its thread, and stay
// on it while it uses the ring.
func newRing(sq, cq uint32) (*ring, error) {
	var p ioUringParams
	var fd uintptr
	var errno unix.Errno = unix.EINVAL
	for _, f := range ringSetups {
		p = ioUringParams{flags: f | setupCQSize, cqEntries: cq}
		fd, _, errno = unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(sq), uintptr(unsafe.Pointer(&p)), 0)
		if errno == 0 {
			break
		}
	}
	if errno != 0 {
		return nil, fmt.Errorf("udprx: io_uring_setup: %w", errno)
	}
	r := &ring{fd: int(fd), flags: p.flags, features: p.features}
	r.arg.ts = uint64(uintptr(unsafe.Pointer(&r.ts)))
	if p.features&featSingleMmap == 0 || p.features&featNoDrop == 0 {
		r.close()
		return nil, errors.New("udprx: io_uring lacks SINGLE_MMAP/NODROP (kernel < 5.5)")
	}
	// With SINGLE_MMAP one mapping holds both the SQ and the CQ ring.
	size := max(p.sqOff.array+p.sqEntries*4, p.cqOff.cqes+p.cqEntries*uint32(unsafe.Sizeof(ioUringCqe{})))
	mem, err := unix.Mmap(r.fd, offSQRing, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		r.close()
		return nil, fmt.Errorf("udprx: mmap io_uring rings: %w", err)
	}
	r.sqMem, r.cqMem = mem, mem
	sqe, err := unix.Mmap(r.fd, offSQEs, int(p.sqEntries)*int(unsafe.Sizeof(ioUringSqe{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		r.close()
		return nil, fmt.Errorf("udprx: mmap io_uring sqes: %w", err)
	}
	r.sqeMem = sqe
	at := func(off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&mem[off])) }
	r.sqHead, r.sqTail = at(p.sqOff.head), at(p.sqOff.tail)
	r.sqMask, r.sqEntries = *at(p.sqOff.ringMask), *at(p.sqOff.ringEntries)
	r.cqHead, r.cqTail = at(p.cqOff.head), at(p.cqOff.tail)
	r.cqMask = *at(p.cqOff.ringMask)
	r.sqes = unsafe.Slice((*ioUringSqe)(unsafe.Pointer(&sqe[0])), p.sqEntries)
	r.cqes = unsafe.Slice((*ioUringCqe)(unsafe.Pointer(&mem[p.cqOff.cqes])), p.cqEntries)
	// The SQ ring indexes the SQE array through an indirection array;
	// slot i always names SQE i, so filling SQE (tail & mask) is enough.
	array := unsafe.Slice((*uint32)(unsafe.Pointer(&mem[p.sqOff.array])), p.sqEntries)
	for i := range array {
		array[i] = uint32(i)
	}
	r.sqLocal = atomic.LoadUint32(r.sqTail)
	return r, nil
}

func (r *ring) close() {
	if r.sqeMem != nil {
		_ = unix.Munmap(r.sqeMem)
	}
	if r.sqMem != nil {
		_ = unix.Munmap(r.sqMem)
	}
	unix.Close(r.fd)
}

// sqe returns a zeroed submission entry to fill, submitting what is queued
// first when the SQ ring is full; nil if it is still full (the caller
// retries on the next round).
func (r *ring) sqe() *ioUringSqe {
	if r.sqLocal-atomic.LoadUint32(r.sqHead) >= r.sqEntries {
		_ = r.enter(0)
		if r.sqLocal-atomic.LoadUint32(r.sqHead) >= r.sqEntries {
			return nil
		}
	}
	e := &r.sqes[r.sqLocal&r.sqMask]
	*e = ioUringSqe{}
	r.sqLocal++
	return e
}

// enter publishes the filled SQEs (release store of the tail, so the
// kernel sees the entries written before it), submits them and, with
// GETEVENTS, lets the kernel run pending receive work and post its
// completions; it waits for minComplete completions.
func (r *ring) enter(minComplete uint32) error {
	atomic.StoreUint32(r.sqTail, r.sqLocal)
	for {
		pending := r.sqLocal - atomic.LoadUint32(r.sqHead)
		_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(pending), uintptr(minComplete),
			enterGetEvents, 0, 0)
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			if minComplete == 0 {
				return nil
			}
			continue
		case unix.EAGAIN, unix.EBUSY:
			// Out of kernel resources or completions held back by a full
			// CQ: the caller reaps, then enters again.
			return nil
		default:
			return fmt.Errorf("udprx: io_uring_enter: %w", errno)
		}
	}
}

// enterAll is enter(0) that runs all the pending receive work, not only
// the first 20 work items (sockets) DEFER_TASKRUN runs when no completion
// is awaited (IO_LOCAL_TW_DEFAULT_MAX in io_uring/io_uring.c): it waits
// for max completions with a zero timeout (IORING_ENTER_EXT_ARG, 5.11),
// and the kernel runs up to max work items before and after it finds the
// timeout expired. So one system call per poll receives for every
// readable socket. (Entering again while IORING_SQ_TASKRUN is set would
// chase datagrams that arrive meanwhile, a system call per few.) false
// without DEFER_TASKRUN: then enter(0) runs all the work on its way out
// (and a DEFER_TASKRUN kernel, 6.1, always has EXT_ARG).
func (r *ring) enterAll(maxComplete uint32) (bool, error) {
	if r.flags&setupDeferTaskrun == 0 || r.features&featExtArg == 0 {
		return false, nil
	}
	atomic.StoreUint32(r.sqTail, r.sqLocal)
	pending := r.sqLocal - atomic.LoadUint32(r.sqHead)
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(pending), uintptr(maxComplete),
		enterGetEvents|enterExtArg, uintptr(unsafe.Pointer(&r.arg)), unsafe.Sizeof(r.arg))
	switch errno {
	case 0, unix.ETIME, unix.EINTR, unix.EAGAIN, unix.EBUSY:
		return true, nil
	}
	return true, fmt.Errorf("udprx: io_uring_enter: %w", errno)
}

// reap calls f for every completion posted, oldest first, and releases the
// entries to the kernel.
func (r *ring) reap(f func(*ioUringCqe)) int {
	head := atomic.LoadUint32(r.cqHead) // only this process writes the head
	tail := atomic.LoadUint32(r.cqTail)
	n := int(tail - head)
	for ; head != tail; head++ {
		f(&r.cqes[head&r.cqMask])
	}
	// Release the entries only after reading them (release store).
	atomic.StoreUint32(r.cqHead, head)
	return n
}

// bufRing is a provided-buffer ring (IORING_REGISTER_PBUF_RING) of n
// buffers of size bytes each: a multishot recvmsg takes one per datagram
// and the loop gives it back after the handler returns.
type bufRing struct {
	bgid    uint16
	ringMem []byte // n io_uring_buf entries; page aligned (mmap)
	bufMem  []byte // n*size bytes of buffers
	entries []ioUringBuf
	tail    uint16 // the tail this process has filled up to
	mask    uint16
	size    int
}

func newBufRing(r *ring, bgid uint16, n, size int) (*bufRing, error) {
	b := &bufRing{bgid: bgid, size: size, mask: uint16(n - 1)}
	var err error
	// Anonymous mappings are page aligned, as the kernel requires of
	// ring_addr, and outside the Go heap, so the kernel may write them at
	// any time without the garbage collector caring.
	if b.ringMem, err = unix.Mmap(-1, 0, n*int(unsafe.Sizeof(ioUringBuf{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE); err != nil {
		return nil, fmt.Errorf("udprx: mmap buffer ring: %w", err)
	}
	if b.bufMem, err = unix.Mmap(-1, 0, n*size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE); err != nil {
		b.free()
		return nil, fmt.Errorf("udprx: mmap buffers: %w", err)
	}
	b.entries = unsafe.Slice((*ioUringBuf)(unsafe.Pointer(&b.ringMem[0])), n)
	reg := ioUringBufReg{ringAddr: uint64(uintptr(unsafe.Pointer(&b.ringMem[0]))), ringEntries: uint32(n), bgid: bgid}
	if _, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), registerPbufRing, uintptr(unsafe.Pointer(&reg)), 1, 0, 0); errno != 0 {
		b.free()
		return nil, fmt.Errorf("udprx: register buffer ring: %w", errno)
	}
	for i := range n {
		b.push(uint16(i))
	}
	b.publish()
	return b, nil
}

func (b *bufRing) free() {
	if b.ringMem != nil {
		_ = unix.Munmap(b.ringMem)
	}
	if b.bufMem != nil {
		_ = unix.Munmap(b.bufMem)
	}
}

// buf returns buffer bid's first n bytes.
func (b *bufRing) buf(bid uint16, n int) []byte {
	off := int(bid) * b.size
	return b.bufMem[off : off+n : off+b.size]
}

// push queues buffer bid for the kernel; publish makes it visible.
func (b *bufRing) push(bid uint16) {
	e := &b.entries[b.tail&b.mask]
	e.addr = uint64(uintptr(unsafe.Pointer(&b.bufMem[int(bid)*b.size])))
	e.len = uint32(b.size)
	if e != &b.entries[0] {
		e.bid = bid
	} else {
		// Entry 0's bid shares a 32-bit word with the ring tail (bytes
		// 12-15, little endian: bid low, tail high), which publish stores
		// atomically; write the bid through the same word so the two never
		// race.
		w := (*uint32)(unsafe.Pointer(&e.bid))
		atomic.StoreUint32(w, atomic.LoadUint32(w)&0xffff0000|uint32(bid))
	}
	b.tail++
}

// publish stores the tail with release semantics (sync/atomic has no
// 16-bit store, so the 32-bit word {entry 0's bid, tail} is stored whole;
// this process is its only writer), after the entries written by push.
func (b *bufRing) publish() {
	w := (*uint32)(unsafe.Pointer(&b.entries[0].bid))
	atomic.StoreUint32(w, atomic.LoadUint32(w)&0xffff|uint32(b.tail)<<16)
}
