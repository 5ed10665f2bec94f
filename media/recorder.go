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
}

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
	failures int64
}

func newRecorder(start time.Time, maxPending int, opts []seal.Option) *Recorder {
	return &Recorder{start: start, maxPending: maxPending, opts: opts,
		out: new(sealedBuf)}
}

// Packet records one RTP packet. pkt is only borrowed: it is copied.
func (r *Recorder) Packet(track uint8, at time.Time, pkt []byte) bool {
	return r.add(seal.RecordPacket, track, at, pkt)
}

// Mark records an event (pause, resume, DTMF marker) for track (0xFF: all).
func (r *Recorder) Mark(typ seal.RecordType, track uint8, at time.Time, data []byte) bool {
	return r.add(typ, track, at, data)
}

func (r *Recorder) add(typ seal.RecordType, track uint8, at time.Time, data []byte) bool {
	arrival := int64(at.Sub(r.start))
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.state {
	case recPending:
		// Bounded buffer while the KMS answers; overflow is counted, never silent.
		if r.pendingSize+len(data) > r.maxPending {
			r.overflow++
			return false
		}
		r.pending = append(r.pending, pendingRec{typ, track, arrival, append([]byte(nil), data...)})
		r.pendingSize += len(data) + 32
		r.records++
		return true
	case recActive:
		if err := r.w.WriteRecord(seal.Record{Type: typ, Track: track, Arrival: arrival, Data: data}); err != nil {
			r.failures++
			return false
		}
		r.records++
		return true
	default:
		return false
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
	buf := r.take()
	sink := r.sink
	r.mu.Unlock()
	return r.deliver(sink, buf)
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

func (r *Recorder) deliver(sink ChunkSink, b []byte) (int64, error) {
	err := sink.Append(b)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.durable += int64(len(b))
		putSealedBuf(b) // the sink does not retain b
	} else {
		// Keep the bytes for the next attempt: nothing sealed is dropped.
		// The sink rolled back any partial write.
		r.unsent = b
	}
	return r.durable, err
}

// Close seals the final chunk, makes it durable and seals the spool file.
// It returns the writer's statistics. A recorder that never got its DEK is
// discarded.
func (r *Recorder) Close() (seal.WriterStats, error) {
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
	buf := r.take()
	sink := r.sink
	r.mu.Unlock()
	if err != nil {
		return st, err
	}
	if _, err := r.deliver(sink, buf); err != nil {
		return st, err
	}
	return st, sink.Seal()
}

// RecorderStats is a snapshot of a recorder's counters.
type RecorderStats struct {
	Records, Overflow, Failures, Durable int64
	Pending                              bool
}

// Stats returns a snapshot.
func (r *Recorder) Stats() RecorderStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return RecorderStats{r.records, r.overflow, r.failures, r.durable, r.state == recPending}
}
