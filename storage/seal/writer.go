package seal

import (
	"fmt"
	"io"
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
	dst      io.Writer
	cio      chunkIO
	raw      *rawHeader
	maxChunk int
	compress bool
	ntracks  int

	// buf is the chunk being built: prefixLen reserved bytes, then the
	// pending records; the chunk is sealed in place, so its capacity keeps
	// tagLen spare. It grows on demand up to prefixLen+maxChunk+tagLen, so
	// that a quiet call does not hold a full chunk of memory.
	buf  []byte
	zbuf []byte // [prefixLen reserved || compressed payload], same idea
	// peak is the largest chunk frame built so far (prefix, records, tag);
	// settled is set once the buffer has been fitted to it (see reserve).
	peak    int
	settled bool

	index      uint32 // index of the next chunk
	arrivalMax int64
	stats      WriterStats

	// err is sticky: after a failed write the object is unusable, and we must
	// never seal the same index twice with different content (that would
	// reuse a nonce), so every later call returns this error.
	err    error
	closed bool
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
		buf:        make([]byte, prefixLen, prefixLen+min(maxChunk, initialBuf)+tagLen),
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
	if w.pending()+n > w.maxChunk {
		if err := w.seal(chunkRegular); err != nil {
			return err
		}
	}
	w.reserve(n)
	end := len(w.buf) + n
	putRecord(w.buf[len(w.buf):end], &r)
	w.buf = w.buf[:end]
	w.arrivalMax = max(w.arrivalMax, r.Arrival)
	w.stats.Records++
	w.stats.PlainBytes += int64(n)
	// Seal a full chunk right away rather than on the next record, so that
	// it reaches dst without waiting for more media.
	if w.pending() == w.maxChunk {
		return w.seal(chunkRegular)
	}
	return nil
}

// initialBuf is the first capacity of a Writer's chunk buffer.
const initialBuf = 4 << 10

func (w *Writer) pending() int { return len(w.buf) - prefixLen }

// reserve makes room for n more record bytes plus the tag.
func (w *Writer) reserve(n int) {
	if len(w.buf)+n+tagLen <= cap(w.buf) {
		return
	}
	// The buffer is kept for the writer's life, once per live recording,
	// so two costs matter: how far above its need it settles (times every
	// live recording) and how much garbage growing it makes (recordings
	// start in bursts, and garbage made at once raises the heap the
	// runtime then keeps). So it grows by quarters while the first chunks
	// show what a flush interval holds, is fitted once to that (see
	// settle), and only then grows by sixteenths.
	need := len(w.buf) + n + tagLen
	step := cap(w.buf) / 4
	if w.settled {
		step = max(cap(w.buf), need) / 16
	}
	c := min(max(cap(w.buf)+step, need+step), prefixLen+w.maxChunk+tagLen)
	nb := make([]byte, len(w.buf), c)
	copy(nb, w.buf)
	clear(w.buf) // do not leave plaintext behind for the collector
	w.buf = nb
}

// Flush seals the pending records as a chunk so that they reach dst. It does
// nothing when no record is pending.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if w.pending() == 0 {
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
		plainLen:   uint32(w.pending()),
		arrivalMax: w.arrivalMax,
	}
	frame := w.buf
	if w.compress && w.pending() > 0 {
		z := zstdEncoder().EncodeAll(w.buf[prefixLen:], w.zbuf[:prefixLen])
		// Keep the compressed form only if it is strictly smaller; the
		// reader relies on this to bound the sealed length.
		if len(z)-prefixLen < w.pending() {
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
	if p.flags&flagCompressed != 0 {
		clear(w.buf[prefixLen:]) // sealing in place overwrote only the compressed copy
	}

	// Whatever happens to the write, this index is spent.
	w.index++
	w.peak = max(w.peak, len(w.buf)+tagLen)
	w.buf = w.buf[:prefixLen]
	if _, err := w.dst.Write(out); err != nil {
		w.err = fmt.Errorf("seal: writing chunk %d: %w", p.index, err)
		return w.err
	}
	w.stats.Chunks++
	w.stats.SealedBytes += int64(len(out))
	w.settle()
	return nil
}

// settleAfter is how many chunks show what a flush interval holds: the
// first may be short (the call's first packets, an early first flush).
const settleAfter = 3

// settle fits the chunk buffer, once, to a sixteenth above the largest
// chunk of the first settleAfter (the quarter steps of growth may have
// left it up to a quarter above).
func (w *Writer) settle() {
	if w.settled || w.index < settleAfter {
		return
	}
	w.settled = true
	if fit := w.peak + w.peak/16; cap(w.buf) > fit {
		w.buf = make([]byte, prefixLen, fit)
	}
}
