//go:build linux && (amd64 || arm64)

package udprx

// The io_uring kernel ABI this package uses. golang.org/x/sys/unix (v0.49)
// only has the three system call numbers, so the few structures and
// constants are written out here from include/uapi/linux/io_uring.h; the
// byte offsets in the comments are those of the C structures. The uring
// backend is built for little-endian 64-bit targets only (see bufRing.push).

// ioUringParams is struct io_uring_params (120 bytes), filled by
// io_uring_setup(2) with the ring sizes and the offsets of the ring fields
// inside the mmap'd regions.
type ioUringParams struct {
	sqEntries    uint32 // 0
	cqEntries    uint32 // 4
	flags        uint32 // 8
	sqThreadCPU  uint32 // 12
	sqThreadIdle uint32 // 16
	features     uint32 // 20
	wqFd         uint32 // 24
	resv         [3]uint32
	sqOff        sqringOffsets // 40: struct io_sqring_offsets
	cqOff        cqringOffsets // 80: struct io_cqring_offsets
}

type sqringOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqringOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

// ioUringSqe is struct io_uring_sqe (64 bytes); unions are named after the
// member this package uses.
type ioUringSqe struct {
	opcode      uint8  // 0
	flags       uint8  // 1: IOSQE_*
	ioprio      uint16 // 2: for recv, IORING_RECV_MULTISHOT
	fd          int32  // 4
	off         uint64 // 8
	addr        uint64 // 16: msghdr, buffer, or the user_data to cancel
	len         uint32 // 24
	opFlags     uint32 // 28: msg_flags / rw_flags / cancel_flags
	userData    uint64 // 32
	bufGroup    uint16 // 40: buf_index / buf_group
	personality uint16 // 42
	spliceFdIn  int32  // 44
	addr3       uint64 // 48
	pad2        uint64 // 56
}

// ioUringCqe is struct io_uring_cqe (16 bytes, no IORING_SETUP_CQE32).
type ioUringCqe struct {
	userData uint64
	res      int32
	flags    uint32 // IORING_CQE_F_*; the buffer id in the upper 16 bits
}

// ioUringBufReg is struct io_uring_buf_reg, the argument of
// IORING_REGISTER_PBUF_RING.
type ioUringBufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid        uint16
	flags       uint16
	resv        [3]uint64
}

// ioUringBuf is struct io_uring_buf (16 bytes), one entry of a provided
// buffer ring. struct io_uring_buf_ring overlays the ring's tail (__u16) on
// the resv field of entry 0, at byte offset 14.
type ioUringBuf struct {
	addr uint64 // 0
	len  uint32 // 8
	bid  uint16 // 12
	resv uint16 // 14: the ring tail, in entry 0
}

// getEventsArg is struct io_uring_getevents_arg (24 bytes), the argument
// of io_uring_enter with IORING_ENTER_EXT_ARG: ts points to a struct
// __kernel_timespec bounding the wait.
type getEventsArg struct {
	sigmask     uint64 // 0
	sigmaskSz   uint32 // 8
	minWaitUsec uint32 // 12
	ts          uint64 // 16
}

// recvmsgOutSize is sizeof(struct io_uring_recvmsg_out) {namelen,
// controllen, payloadlen, flags}, which a multishot recvmsg writes at the
// start of each buffer; the source address follows, then the control data
// (none here), then the payload.
const recvmsgOutSize = 16

const (
	// io_uring_setup flags
	setupCQSize       = 1 << 3
	setupSubmitAll    = 1 << 7
	setupCoopTaskrun  = 1 << 8
	setupSingleIssuer = 1 << 12
	setupDeferTaskrun = 1 << 13

	// io_uring_params.features
	featSingleMmap = 1 << 0
	featNoDrop     = 1 << 1
	featExtArg     = 1 << 8

	// mmap offsets
	offSQRing = 0
	offCQRing = 0x8000000
	offSQEs   = 0x10000000

	// io_uring_enter flags
	enterGetEvents = 1 << 0
	enterExtArg    = 1 << 3

	// opcodes
	opRecvmsg     = 10
	opAsyncCancel = 14
	opRead        = 22

	// sqe flags
	sqeBufferSelect = 1 << 5

	// recv ioprio flags
	recvMultishot = 1 << 1

	// cqe flags
	cqeFBuffer     = 1 << 0
	cqeFMore       = 1 << 1
	cqeBufferShift = 16

	// io_uring_register opcodes
	registerPbufRing = 22
)
