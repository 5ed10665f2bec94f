package recording

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// Start describes a recording as its session begins.
type Start struct {
	SessionID, CallID, QueueID, Direction string
	// CallerID and AgentID are the session's call fields, indexed for
	// search (the caller normalised by NormalizeCaller).
	CallerID, AgentID string
	PolicyID          string
	PolicyVersion     int64
	StartedAt         time.Time
	// Tracks are the call's tracks as they arrived, for the index.
	Tracks []Track
	// RetainUntil is fixed here, at creation (policy.RetainUntil): the
	// index row and the object's S3 lock retention both take it; zero:
	// no retention.
	RetainUntil time.Time
}

// Track is one track of a recording as the index shows it: what it
// carried and how it travelled to the gateway.
type Track struct {
	Label string `json:"label"`
	Kind  string `json:"kind"`
	Codec string `json:"codec"`
	// Transport is RTP (plain), SRTP (SDES-keyed, Suite names the suite),
	// DTLS-SRTP (WHIP) or WebSocket (a platform's stream: TLS when the API
	// listener has it, or the proxy in front of it).
	Transport string `json:"transport"`
	Suite     string `json:"suite,omitempty"`
}

// Transports of Track.
const (
	TransportRTP       = "RTP"
	TransportSRTP      = "SRTP"
	TransportDTLSSRTP  = "DTLS-SRTP"
	TransportWebSocket = "WebSocket"
)

// Recording is one recording in its life cycle. Media calls its methods
// as the call goes (Open when the key arrives, KeyReady, Durable, then one
// of Ended, WriteFailed, Failed or KeyFailed); the service moves it on
// from there. Its id and object key never change.
type Recording struct {
	svc    *Service
	id     string
	sealID [32]byte
	key    string
	start  Start

	mu     sync.Mutex
	state  State
	chunks int64 // durable chunks, once the recording is closed
}

// ID is the recording id (also the spool file's name).
func (r *Recording) ID() string { return r.id }

// SealID is the id in the seal header: the raw bytes behind ID.
func (r *Recording) SealID() [32]byte { return r.sealID }

// ObjectKey is where the recording is stored.
func (r *Recording) ObjectKey() string { return r.key }

// State returns the current state.
func (r *Recording) State() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// to moves the recording to state s, refusing an illegal transition.
func (r *Recording) to(s State) error {
	r.mu.Lock()
	st, err := move(r.state, s)
	r.state = st
	r.mu.Unlock()
	if err != nil {
		r.svc.log.Error("recording life cycle", zap.String("recording", r.id), zap.Error(err))
		return err
	}
	r.svc.m.states.WithLabelValues(string(s)).Inc()
	return nil
}

func newID() (string, [32]byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", b, err
	}
	return hex.EncodeToString(b[:]), b, nil
}

// Started queues the recording's index row (ACTIVE) once its session is
// live. It never waits for the store: when the index writer is too far
// behind it fails with ErrIndexBehind and the session should be refused.
func (r *Recording) Started() error {
	s, st := r.svc, r.start
	row := Row{ID: r.id, SessionID: st.SessionID, OrgID: s.d.OrgID, CallID: st.CallID, QueueID: st.QueueID,
		Direction: st.Direction, PolicyID: st.PolicyID, PolicyVersion: st.PolicyVersion, StartedAt: st.StartedAt,
		GatewayID: s.d.GatewayID, ObjectKey: r.key, AgentID: st.AgentID, Caller: NormalizeCaller(st.CallerID, s.d.CallerRegion),
		Tracks: st.Tracks, RetainUntil: st.RetainUntil}
	if !s.ix.tryQueue(indexOp{what: "create", id: r.id, do: func(ctx context.Context, ix Index) error { return ix.Create(ctx, row) }}) {
		return fmt.Errorf("%w: %d writes queued", ErrIndexBehind, len(s.ix.q))
	}
	s.m.states.WithLabelValues(string(Active)).Inc()
	return nil
}

// Open creates the recording's spool file once its key has arrived: what
// media appends to it is durable when Append returns. Sealing it moves
// the recording to SEALED.
func (r *Recording) Open() (storage.SpoolFile, error) {
	f, err := r.svc.d.Spool.Create(r.id)
	if err != nil {
		return nil, err
	}
	return &sink{SpoolFile: f, r: r}, nil
}

// sink is a recording's spool file.
type sink struct {
	storage.SpoolFile
	r *Recording
}

// Seal implements storage.SpoolFile.
func (s *sink) Seal() error {
	if err := s.SpoolFile.Seal(); err != nil {
		return err
	}
	return s.r.to(Sealed)
}

// KeyReady indexes the key envelope the recording is sealed under and the
// KMS context its DEK was wrapped under (recordingkey.Marshal).
func (r *Recording) KeyReady(env seal.Envelope, kmsContext []byte) {
	r.svc.ix.queue(indexOp{what: "key", id: r.id, do: func(ctx context.Context, ix Index) error {
		return ix.SetKey(ctx, r.id, env, kmsContext)
	}})
}

// KeyFailed ends a recording that got no key (fail closed): nothing was
// written, and the index says FAILED.
func (r *Recording) KeyFailed() {
	if r.to(Failed) != nil {
		return
	}
	r.svc.ix.queue(indexOp{what: "failed", id: r.id, do: func(ctx context.Context, ix Index) error {
		return ix.Finish(ctx, r.id, indexFailed, 0, 0, "", "")
	}})
}

// Durable notes that bytes of the recording are on disk.
func (r *Recording) Durable(bytes int64) {
	r.svc.ix.durable(r.id, bytes)
}

// Ended is told that the sealed recording holds chunks chunks and bytes
// bytes: it indexes them and queues the upload.
func (r *Recording) Ended(chunks, bytes int64) {
	if st := r.State(); st != Sealed {
		r.svc.log.Error("recording ended without being sealed", zap.String("recording", r.id), zap.String("state", string(st)))
		return
	}
	r.mu.Lock()
	r.chunks = chunks
	r.mu.Unlock()
	r.svc.ix.queue(indexOp{what: "progress", id: r.id, do: func(ctx context.Context, ix Index) error {
		return ix.Progress(ctx, Progress{ID: r.id, Chunks: chunks, Bytes: bytes, DurableAt: time.Now()})
	}})
	r.svc.upload(r)
}

// WriteFailed is told that the final chunk could not be written: the
// chunks that reached disk stay in the open spool file, which is recovered
// in place as soon as the spool takes writes again.
func (r *Recording) WriteFailed() {
	if r.to(WriteFailed) != nil {
		return
	}
	r.svc.recoverUnwritten(r)
}

// Failed is told that the recording could not be finalised (its writer
// failed); its file is left for recovery at the next start.
func (r *Recording) Failed(err error) {
	if r.to(Failed) == nil {
		r.svc.log.Error("recording not finalised; its spool file waits for recovery at next start",
			zap.String("recording", r.id), zap.Error(err))
	}
}

// Index statuses the life cycle writes.
const (
	indexComplete  = "COMPLETE"
	indexRecovered = "RECOVERED"
	indexFailed    = "FAILED"
)

// indexStatus is the final index status of a recording closed in state s.
func indexStatus(s State) (string, error) {
	switch s {
	case Sealed:
		return indexComplete, nil
	case Recovered, Truncated:
		return indexRecovered, nil
	}
	return "", fmt.Errorf("%w: %s is not closed", ErrTransition, s)
}
