package media

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mediaseal/mediaseal/storage/seal"
)

// recState is the life cycle of a recorder.
type recState int

const (
	recPending recState = iota // waiting for the DEK, buffering in memory
	recActive                  // sealing into the spool
	recDiscard                 // fail closed: media is dropped, nothing is written
	recClosed
)

// ChunkSink receives sealed bytes and makes them durable (the spool file).
type ChunkSink interface {
	Append(b []byte) error
	Seal() error
	Discard() error
	// Abandon closes the sink without sealing it: what is durable stays
	// for recovery to close.
	Abandon() error
}

// ErrNotDurable means a recording's final chunk could not be made durable
// within the retry bound: its file is left open for recovery.
var ErrNotDurable = errors.New("media: final chunk not durable")

// pendingRec is a record buffered before the DEK arrives.
type pendingRec struct {
	typ     seal.RecordType
	track   uint8
	arrival int64
	data    []byte
}

// Recorder turns the records of one call into a sealed recording. Packet
// and Mark are called from ingest goroutines; Flush from the flush ticker.
type Recorder struct {
	start      time.Time
	maxPending int
	opts       []seal.Option

	// sinkMu is held from taking sealed output to its Append returning,
	// so a flush and the close never hand the sink chunks out of order.
	sinkMu sync.Mutex

	mu          sync.Mutex
	state       recState
	pending     []pendingRec
	pendingSize int
	w           *seal.Writer
	out         *sealedBuf // sealed bytes not yet handed to the sink
	unsent      []byte     // sealed bytes a failed Append returned, retried first
	sink        ChunkSink

	// counters, guarded by mu
	records  int64
	overflow int64
	durable  int64 // bytes made durable
	failures int64 // records other than packets the writer refused
	// what the sink has made durable: the writer's counts at the last
	// successful Append (everything taken then was sealed)
	durableChunks, durableRecords int64
}

func newRecorder(start time.Time, maxPending int, opts []seal.Option) *Recorder {
	return &Recorder{start: start, maxPending: maxPending, opts: opts,
		out: new(sealedBuf)}
}

// Packet records one RTP packet. pkt is only borrowed: it is copied. It
// returns "" when recorded, else the drop reason (DropOverflow, DropWrite,
// DropClosed).
func (r *Recorder) Packet(track uint8, at time.Time, pkt []byte) string {
	return r.add(seal.RecordPacket, track, at, pkt)
}

// Mark records an event (pause, resume, DTMF marker) for track (0xFF: all).
func (r *Recorder) Mark(typ seal.RecordType, track uint8, at time.Time, data []byte) bool {
	why := r.add(typ, track, at, data)
	if why == DropWrite {
		r.mu.Lock()
		r.failures++ // packets are counted per track by the caller
		r.mu.Unlock()
	}
	return why == ""
}

func (r *Recorder) add(typ seal.RecordType, track uint8, at time.Time, data []byte) string {
	arrival := int64(at.Sub(r.start))
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.state {
	case recPending:
		// Bounded buffer while the KMS answers; overflow is counted, never silent.
		if r.pendingSize+len(data) > r.maxPending {
			r.overflow++
			return DropOverflow
		}
		r.pending = append(r.pending, pendingRec{typ, track, arrival, append([]byte(nil), data...)})
		r.pendingSize += len(data) + 32
		r.records++
		return ""
	case recActive:
		// While the spool refuses writes, sealed bytes wait in memory for
		// the next flush; the same bound as before the key arrived (plus
		// the chunk being built) keeps a long outage from growing without
		// limit. What it refuses is lost and counted as such.
		if r.unsent != nil && len(r.unsent)+len(r.out.b) > r.maxPending {
			return DropWrite
		}
		if err := r.w.WriteRecord(seal.Record{Type: typ, Track: track, Arrival: arrival, Data: data}); err != nil {
			return DropWrite
		}
		r.records++
		return ""
	default:
		return DropClosed
	}
}

// Activate starts sealing under dek with header h, replays the buffered
// records and hands output to sink from now on. dek is not retained.
func (r *Recorder) Activate(sink ChunkSink, dek []byte, h seal.Header) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != recPending {
		return fmt.Errorf("media: recorder activated in state %d", r.state)
	}
	w, err := seal.NewWriter(r.out, dek, h, r.opts...)
	if err != nil {
		r.state = recDiscard
		return err
	}
	r.w, r.sink, r.state = w, sink, recActive
	for i, p := range r.pending {
		if err := w.WriteRecord(seal.Record{Type: p.typ, Track: p.track, Arrival: p.arrival, Data: p.data}); err != nil {
			r.failures++
		}
		r.pending[i].data = nil
	}
	r.pending, r.pendingSize = nil, 0
	return nil
}

// Discard drops everything buffered and everything to come (fail closed).
func (r *Recorder) Discard() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state = recDiscard
	r.pending, r.pendingSize = nil, 0
}

// Flush seals the pending chunk and makes it durable. It returns the bytes
// durable so far. The sink write happens outside the packet lock.
func (r *Recorder) Flush() (int64, error) {
	r.sinkMu.Lock()
	defer r.sinkMu.Unlock()
	r.mu.Lock()
	if r.state != recActive {
		d := r.durable
		r.mu.Unlock()
		return d, nil
	}
	if err := r.w.Flush(); err != nil {
		r.mu.Unlock()
		return 0, err
	}
	buf, mark := r.take(), r.w.Stats()
	sink := r.sink
	r.mu.Unlock()
	return r.deliver(sink, buf, mark)
}

// take hands the sealed output (after any bytes a failed Append left) to
// the caller, who writes it to the sink without holding the packet lock;
// called with mu held. The writer starts a fresh pooled buffer next time.
func (r *Recorder) take() []byte {
	b := r.out.b
	r.out.b = nil
	if r.unsent != nil {
		nb := append(r.unsent, b...)
		if b != nil {
			putSealedBuf(b)
		}
		b, r.unsent = nb, nil
	}
	return b
}

// deliver appends b, everything the writer had sealed when its counts
// were mark, to the sink; called with sinkMu held.
func (r *Recorder) deliver(sink ChunkSink, b []byte, mark seal.WriterStats) (int64, error) {
	err := sink.Append(b)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.durable += int64(len(b))
		r.durableChunks, r.durableRecords = mark.Chunks, mark.Records
		putSealedBuf(b) // the sink does not retain b
	} else {
		// Keep the bytes for the next attempt: nothing sealed is dropped.
		// The sink rolled back any partial write.
		r.unsent = b
	}
	return r.durable, err
}

// Close seals the final chunk, makes it durable and seals the spool file.
// A failed final write is retried every `every` like the periodic flushes,
// the sealed bytes kept in memory, until deadline; then the file is left
// open (abandoned, for recovery) and the error wraps ErrNotDurable. It
// returns the writer's statistics. A recorder that never got its DEK is
// discarded.
func (r *Recorder) Close(deadline time.Time, every time.Duration) (seal.WriterStats, error) {
	r.sinkMu.Lock()
	defer r.sinkMu.Unlock()
	r.mu.Lock()
	switch r.state {
	case recClosed:
		r.mu.Unlock()
		return seal.WriterStats{}, errors.New("media: recorder already closed")
	case recPending, recDiscard:
		r.state = recClosed
		r.pending = nil
		sink := r.sink
		r.mu.Unlock()
		if sink != nil {
			return seal.WriterStats{}, sink.Discard()
		}
		return seal.WriterStats{}, nil
	}
	r.state = recClosed
	err := r.w.Close()
	st := r.w.Stats()
	sink := r.sink
	r.mu.Unlock()
	if err != nil {
		return st, err
	}
	for {
		r.mu.Lock()
		buf := r.take()
		r.mu.Unlock()
		_, err := r.deliver(sink, buf, st)
		if err == nil {
			return st, sink.Seal()
		}
		if !time.Now().Add(every).Before(deadline) {
			r.mu.Lock()
			lost := len(r.unsent)
			r.mu.Unlock()
			return st, errors.Join(fmt.Errorf("%w: %d sealed bytes not written: %w", ErrNotDurable, lost, err), sink.Abandon())
		}
		time.Sleep(every)
	}
}

// RecorderStats is a snapshot of a recorder's counters.
type RecorderStats struct {
	Records, Overflow, Failures, Durable int64
	// DurableChunks and DurableRecords are what reached the sink.
	DurableChunks, DurableRecords int64
	Pending                       bool
}

// Stats returns a snapshot.
func (r *Recorder) Stats() RecorderStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return RecorderStats{Records: r.records, Overflow: r.overflow, Failures: r.failures, Durable: r.durable,
		DurableChunks: r.durableChunks, DurableRecords: r.durableRecords, Pending: r.state == recPending}
}
