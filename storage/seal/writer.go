package seal

import (
	"fmt"
	"io"
	"sync"
)

// WriterStats counts what a Writer has produced.
type WriterStats struct {
	Chunks      int64 // chunks sealed, the final one included
	Records     int64
	PlainBytes  int64 // encoded record bytes, before compression
	SealedBytes int64 // bytes written to dst, header included
}

// Writer seals records into a seal object. It is not safe for concurrent use.
type Writer struct {
	// The fields every record touches come first, so that a record costs
	// as few cache lines as possible: a gateway writes into thousands of
	// writers in turn, and each is cold when its call's next packet comes.

	// err is sticky: after a failed write the object is unusable, and we must
	// never seal the same index twice with different content (that would
	// reuse a nonce), so every later call returns this error.
	err error

	// The pending records are encoded back to back across blocks: the
	// full ones in order, then cur, filled to tail; pending counts their
	// bytes. Blocks come from blockPool and go back to it once their
	// chunk is sealed, so a writer holds memory only for what is pending
	// (see blockSize). cur is a field of its own so that a record goes
	// into it without a load through the list of full ones.
	cur        *block
	tail       int
	pending    int
	maxChunk   int
	ntracks    int
	arrivalMax int64
	stats      WriterStats

	full     []*block
	zbuf     []byte // [prefixLen reserved || compressed payload]
	index    uint32 // index of the next chunk
	closed   bool
	compress bool
	dst      io.Writer
	raw      *rawHeader
	cio      chunkIO
}

// NewWriter writes the header to dst immediately and returns a Writer. dek
// must be 32 bytes and fresh for this recording. A zero h.RecordingID is
// replaced by a random one (see [Writer.Header]); zero Suite and
// MaxChunkSize take their defaults. A zero Version writes [Version2] when
// h.KMSContext is set and [Version1] (legacy context implied) otherwise.
func NewWriter(dst io.Writer, dek []byte, h Header, opts ...Option) (*Writer, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if len(dek) != 32 {
		return nil, fmt.Errorf("%w: got %d", ErrKeySize, len(dek))
	}
	switch h.Version {
	case 0:
		h.Version = Version1
		if h.KMSContext != nil {
			h.Version = Version2
		}
	case Version1, Version2:
	default:
		return nil, fmt.Errorf("%w: version %d", ErrHeaderInvalid, h.Version)
	}
	switch h.Suite {
	case 0:
		h.Suite = SuiteAES256GCM
	case SuiteAES256GCM:
	default:
		return nil, fmt.Errorf("%w: suite %d", ErrHeaderInvalid, h.Suite)
	}
	maxChunk := o.maxChunk
	if maxChunk == 0 {
		maxChunk = int(h.MaxChunkSize)
	}
	if maxChunk == 0 {
		maxChunk = DefaultMaxChunkSize
	}
	if maxChunk < MinChunkSize || maxChunk > MaxChunkSizeLimit {
		return nil, fmt.Errorf("%w: %d not in [%d, %d]", ErrChunkTooLarge, maxChunk, MinChunkSize, MaxChunkSizeLimit)
	}
	h.MaxChunkSize = uint32(maxChunk)
	if h.RecordingID == ([32]byte{}) {
		id, err := NewRecordingID()
		if err != nil {
			return nil, err
		}
		h.RecordingID = id
	}
	raw, err := encodeHeader(&h)
	if err != nil {
		return nil, err
	}
	ks, err := sealHeader(raw, dek)
	if err != nil {
		return nil, err
	}
	w := &Writer{
		dst:        dst,
		raw:        raw,
		maxChunk:   maxChunk,
		compress:   o.compression,
		ntracks:    len(h.Context.Tracks),
		zbuf:       make([]byte, prefixLen),
		arrivalMax: noArrival,
	}
	w.cio.init(ks, &h.RecordingID)
	if _, err := dst.Write(raw.bytes); err != nil {
		return nil, err
	}
	w.stats.SealedBytes = int64(len(raw.bytes))
	return w, nil
}

// Header returns the header as written (with the recording id, version,
// suite and max chunk size filled in).
func (w *Writer) Header() *Header { h := w.raw.h; return &h }

// HeaderLen is the size of the header in bytes; chunk 0 starts there.
func (w *Writer) HeaderLen() int { return len(w.raw.bytes) }

// Stats reports what has been written so far.
func (w *Writer) Stats() WriterStats { return w.stats }

// WriteRecord appends r to the pending chunk, sealing the pending chunk first
// if r does not fit in it. A record never straddles two chunks.
func (w *Writer) WriteRecord(r Record) error {
	if w.err != nil {
		return w.err
	}
	n := r.encodedLen()
	if len(r.Data) > MaxRecordData || n > w.maxChunk {
		return fmt.Errorf("%w: %d bytes encoded, max chunk size %d", ErrRecordTooLarge, n, w.maxChunk)
	}
	if err := r.check(w.ntracks); err != nil {
		return err
	}
	if w.pending+n > w.maxChunk {
		if err := w.seal(chunkRegular); err != nil {
			return err
		}
	}
	if b := w.room(); len(b) >= n {
		putRecord(b, &r)
		w.tail += n
	} else {
		var h [recordHeaderLen]byte
		putRecordHeader(&h, &r)
		w.put(h[:])
		w.put(r.Data)
	}
	w.pending += n
	w.arrivalMax = max(w.arrivalMax, r.Arrival)
	w.stats.Records++
	w.stats.PlainBytes += int64(n)
	// Seal a full chunk right away rather than on the next record, so that
	// it reaches dst without waiting for more media.
	if w.pending == w.maxChunk {
		return w.seal(chunkRegular)
	}
	return nil
}

// blockSize is the unit in which writers hold pending records. A gateway
// keeps a writer per live call, and flushes are spread over the interval,
// so with blocks that go back to a shared pool at every flush a call holds
// on average half an interval of media plus half a block; a buffer of its
// own would hold a whole interval (its largest) for the call's life, and
// growing it makes garbage in the bursts in which calls start.
const blockSize = 2 << 10

type block [blockSize]byte

var blockPool = sync.Pool{New: func() any { return new(block) }}

// room is the free space of the current block (nil when there is none).
func (w *Writer) room() []byte {
	if w.cur == nil {
		return nil
	}
	return w.cur[w.tail:]
}

// put appends b to the pending records, taking blocks as they fill.
func (w *Writer) put(b []byte) {
	for len(b) > 0 {
		if w.cur == nil || w.tail == blockSize {
			if w.cur != nil {
				w.full = append(w.full, w.cur)
			}
			w.cur, w.tail = blockPool.Get().(*block), 0
		}
		n := copy(w.cur[w.tail:], b)
		w.tail += n
		b = b[n:]
	}
}

// frames hold a chunk while it is sealed: [prefixLen || records || tag].
// Only the writers flushing at one moment need one, not every live call.
var frames = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledFrame bounds the frames kept for reuse (frames are allocated
// in whole blocks): a recording with a larger max chunk size allocates
// its own.
const maxPooledFrame = (prefixLen + DefaultMaxChunkSize + tagLen + blockSize - 1) / blockSize * blockSize

// gather moves the pending records into a frame from the pool, returns
// their blocks (cleared: no plaintext is left for the next user) and
// leaves the writer with nothing pending.
func (w *Writer) gather() *[]byte {
	fp := frames.Get().(*[]byte)
	need := prefixLen + w.pending + tagLen
	if cap(*fp) < need {
		*fp = make([]byte, need, (need+blockSize-1)/blockSize*blockSize)
	}
	frame := (*fp)[:prefixLen+w.pending]
	off := prefixLen
	for _, b := range w.full {
		off += copy(frame[off:], b[:])
		clear(b[:])
		blockPool.Put(b)
	}
	if w.cur != nil {
		copy(frame[off:], w.cur[:w.tail])
		clear(w.cur[:w.tail])
		blockPool.Put(w.cur)
	}
	clear(w.full)
	w.full, w.cur, w.tail, w.pending = w.full[:0], nil, 0, 0
	*fp = frame
	return fp
}

// release clears a frame's plaintext, if any is left, and pools it.
func release(fp *[]byte, plain bool) {
	if plain {
		clear(*fp)
	}
	if cap(*fp) <= maxPooledFrame {
		frames.Put(fp)
	}
}

// Flush seals the pending records as a chunk so that they reach dst. It does
// nothing when no record is pending.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if w.pending == 0 {
		return nil
	}
	return w.seal(chunkRegular)
}

// Close seals the pending records as the final chunk (possibly empty). It
// does not close dst. Close is idempotent; it returns the sticky error of an
// earlier failure.
func (w *Writer) Close() error {
	if w.closed {
		if w.err == ErrClosed {
			return nil
		}
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if err := w.seal(chunkFinal); err != nil {
		return err
	}
	w.err = ErrClosed
	return nil
}

// seal seals the pending records as chunk w.index of type typ and writes it.
func (w *Writer) seal(typ chunkType) error {
	if w.index == MaxChunks {
		w.err = fmt.Errorf("%w: %d", ErrTooManyChunks, w.index)
		return w.err
	}
	p := prefix{
		index:      w.index,
		typ:        typ,
		plainLen:   uint32(w.pending),
		arrivalMax: w.arrivalMax,
	}
	fp := w.gather()
	buf := *fp
	frame := buf
	if w.compress && len(buf) > prefixLen {
		z := zstdEncoder().EncodeAll(buf[prefixLen:], w.zbuf[:prefixLen])
		// Keep the compressed form only if it is strictly smaller; the
		// reader relies on this to bound the sealed length.
		if len(z) < len(buf) {
			if cap(z)-len(z) < tagLen {
				z = append(z, make([]byte, tagLen)...)[:len(z)]
			}
			frame = z
			p.flags |= flagCompressed
		} else {
			clear(z[prefixLen:]) // unused compressed plaintext
		}
		w.zbuf = z[:prefixLen]
	}
	out := w.cio.seal(frame, &p)
	// Sealing in place left ciphertext in the frame, unless it sealed the
	// compressed copy.
	defer release(fp, p.flags&flagCompressed != 0)

	// Whatever happens to the write, this index is spent.
	w.index++
	if _, err := w.dst.Write(out); err != nil {
		w.err = fmt.Errorf("seal: writing chunk %d: %w", p.index, err)
		return w.err
	}
	w.stats.Chunks++
	w.stats.SealedBytes += int64(len(out))
	return nil
}
