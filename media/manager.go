package media

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/recordingkey"
	"github.com/mediaseal/mediaseal/media/udprx"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/recording"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// Config is the media side of the gateway configuration.
type Config struct {
	OrgID string
	// RetentionDays is the organisation's default retention, taken when a
	// policy sets no retentionDays; 0: none.
	RetentionDays     int
	BindAddr          netip.Addr
	AdvertiseAddr     netip.Addr
	PortMin, PortMax  int
	InactivityTimeout time.Duration
	MaxPendingBytes   int
	SocketBuffer      int
	MaxSessions       int
	FlushInterval     time.Duration
	SealOptions       []seal.Option
	// LatchWindow is how long after a session is created the first sender
	// of a track without a declared source is latched. Zero (the default)
	// turns latching off: every UDP track must declare its source.
	LatchWindow time.Duration
	// SRTP is the gateway's SRTP rule: "required" refuses a recorded
	// session with a plain RTP track (ErrSRTPRequired), "off" refuses
	// SRTP tracks, anything else lets each track choose. A policy with
	// requireSrtp requires it for the calls it records.
	SRTP string
	// FinalWriteRetry bounds how long a call's final chunk is retried
	// while the spool refuses writes (default DefaultFinalWriteRetry).
	FinalWriteRetry time.Duration
	// GroupCommit says the spool's appends share commits of the
	// filesystem: flush workers then wait on a condition variable, not in
	// fsync, and more of them may run (see flushWorkers).
	GroupCommit bool
}

// DefaultFinalWriteRetry is long enough to ride out a spool disk freed by
// the uploader or an operator, short enough that an ending call's media
// is not held in memory for long.
const DefaultFinalWriteRetry = 30 * time.Second

// Status is how a session ended, in its summary.
type Status string

// Session statuses.
const (
	StatusComplete    Status = "COMPLETE"
	StatusNotRecorded Status = "NOT_RECORDED"
	// StatusFailedClosed: no key arrived and the policy fails closed.
	StatusFailedClosed Status = KeyFailed
	// StatusFailed: the recording could not be finalised.
	StatusFailed Status = "FAILED"
	// StatusWriteFailed: the final chunk could not be written within
	// FinalWriteRetry; what was durable stays in its open spool file for
	// recovery.
	StatusWriteFailed Status = "WRITE_FAILED"
)

func (c Config) finalWriteRetry() time.Duration {
	if c.FinalWriteRetry > 0 {
		return c.FinalWriteRetry
	}
	return DefaultFinalWriteRetry
}

// KeyRequest asks for the DEK of one recording.
type KeyRequest struct {
	RecordingID string
	Policy      *policy.Policy
	// Context is the recording's own context (recordingkey.ForRecording):
	// a DEK generated for this request is bound to it.
	Context kms.EncryptionContext
}

// KeyGrant is a DEK with the envelope to store in the header. The manager
// wipes DEK after use.
type KeyGrant struct {
	DEK      []byte
	Envelope seal.Envelope
	// Context is the KMS context the DEK is wrapped under (the request's,
	// or a pooled DEK's own); the header records it. Nil: the request's.
	Context kms.EncryptionContext
	// Reason explains a fallback to the platform key.
	Reason string
}

// KeySource obtains DEKs. Acquire returns at once and calls deliver
// exactly once with the outcome: from a goroutine of the source's, or
// before returning when the answer is already known (a pooled DEK, a
// closed source). The manager needs no goroutine of its own per DEK.
type KeySource interface {
	Acquire(ctx context.Context, req KeyRequest, deliver func(KeyGrant, error))
}

// Recordings is the life cycle of recordings (package recording): it
// admits new recordings, decides each one's id and object key, and takes
// over once media has sealed it. Media never sees the spool, the index or
// the object store.
type Recordings interface {
	// Admit returns nil when a new recording can be taken now.
	Admit() error
	// Begin decides a recording's id and object key; it does no I/O.
	Begin(recording.Start) (*recording.Recording, error)
}

// Observer is told about session events (metrics, logs). Calls must not
// block for long.
type Observer interface {
	SessionStarted(s *Session)
	KeyReady(s *Session, env seal.Envelope, fallbackReason string)
	KeyFailed(s *Session, err error)
	Durable(s *Session, bytes int64)
	SessionEnded(s *Session, sum Summary)
}

// FlushObserver is optionally implemented by an Observer that times
// flushes (metrics). Flushed is called after every flush attempt.
type FlushObserver interface {
	Flushed(s *Session, t FlushTiming)
}

// RefusalObserver is optionally implemented by an Observer that counts
// sessions the manager refuses by rule (metrics), whichever ingest path
// asked: Refused returns the counter of reason.
type RefusalObserver interface {
	Refused(reason string) prometheus.Counter
}

// FlushTiming describes one flush: when it fell due (zero for the flush
// right after the DEK arrives), when it started and finished, and its error.
type FlushTiming struct {
	Due, Start, Done time.Time
	Took             time.Duration
	Err              error
}

// Deps are the manager's collaborators.
type Deps struct {
	Policies   func() *policy.Set
	Keys       KeySource
	Recordings Recordings
	Observer   Observer
	Logger     *zap.Logger
}

// drainWindow is how long a session's sockets are still read after it ends,
// so datagrams already queued in the kernel are recorded, not dropped.
const drainWindow = 50 * time.Millisecond

// Manager owns every live session.
type Manager struct {
	cfg    Config
	deps   Deps
	obs    Observer
	fobs   FlushObserver // obs, when it times flushes
	log    *zap.SugaredLogger
	ports  *portPool
	ingest *udprx.Set

	mu       sync.RWMutex
	sessions map[string]*Session
	closed   bool
	ended    CounterSnapshot // totals of ended sessions, for metrics
	// idleAt is when the next check for silent sessions is due (tick).
	idleAt  time.Time
	flushes flushSchedule
	keyCtx  context.Context
	keyStop context.CancelFunc
	keyWG   sync.WaitGroup
	flushq  chan flushJob
	// flushMax bounds the flush workers (Config.FlushWorkers), flushLive
	// counts them.
	flushMax  int
	flushLive atomic.Int32
	flushers  sync.WaitGroup
}

// Flushes run on a bounded set of workers rather than a goroutine per due
// session. With a commit per file, every flush ends in an fsync, and
// thousands of goroutines blocked in fsync at once each pin an OS thread:
// at most 64 workers. With a group commit, a flush waits for a shared
// syncfs (the gathering, then the sync, often after the one in progress)
// on a condition variable, holding no thread; there the bound limits
// throughput, not threads, and a flush lasts several milliseconds, so 64
// workers would finish fewer flushes a second than a large gateway's
// recordings fall due and the queue would grow without end: up to 512
// there (docs/bench.md, "Figures moved out of code comments"). Workers
// start when the tick queues flushes and exit when they find the queue
// empty: only about as many live (each holding a grown stack) as flushes
// are in flight, not 512 grown stacks for good. The queue is deep enough
// for every session of a large gateway; if it is ever full, the tick
// falls back to a goroutine so that no flush is delayed.
const (
	flushWorkers      = 64
	groupFlushWorkers = 512
	flushQueue        = 1 << 14
)

type flushJob struct {
	s   *Session
	due time.Time
}

// NewManager returns a manager; Run must be called for flushing and timeouts.
func NewManager(cfg Config, deps Deps) *Manager {
	if deps.Logger == nil {
		deps.Logger = zap.NewNop()
	}
	obs := deps.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	fobs, _ := obs.(FlushObserver)
	return &Manager{cfg: cfg, deps: deps, obs: obs, fobs: fobs, log: deps.Logger.Sugar(),
		ports: newPortPool(cfg.BindAddr, cfg.PortMin, cfg.PortMax), ingest: udprx.New(), sessions: map[string]*Session{},
		keyCtx: ctx, keyStop: cancel, flushq: make(chan flushJob, flushQueue)}
}

var labelRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

func badRequest(field string, v any, msg string) error {
	return fmt.Errorf("%w: %s: %s (got %q)", ErrBadRequest, field, msg, fmt.Sprint(v))
}

// codecDefaults maps a codec name to its static payload type and clock rate.
var codecDefaults = map[string]struct {
	pt   uint8
	rate uint32
	kind string
}{
	"PCMU": {0, 8000, "audio"}, "PCMA": {8, 8000, "audio"}, "G722": {9, 8000, "audio"},
	"opus": {111, 48000, "audio"}, "VP8": {96, 90000, "video"}, "H264": {102, 90000, "video"},
}

func (r *Request) validate(latching bool) ([]seal.Track, error) {
	switch {
	case len(r.CallID) == 0 || len(r.CallID) > 256:
		return nil, badRequest("callId", r.CallID, "must be 1-256 characters")
	case len(r.QueueID) > 256:
		return nil, badRequest("queueId", r.QueueID, "must be at most 256 characters")
	case r.Direction != policy.DirectionInbound && r.Direction != policy.DirectionOutbound:
		return nil, badRequest("direction", r.Direction, "must be INBOUND or OUTBOUND")
	case len(r.CallerID) > 256 || len(r.AgentID) > 256:
		return nil, badRequest("callerId", r.CallerID, "callerId and agentId must be at most 256 characters")
	case len(r.Tracks) == 0 || len(r.Tracks) > 16:
		return nil, badRequest("tracks", len(r.Tracks), "must have 1-16 tracks")
	}
	seen := map[string]bool{}
	out := make([]seal.Track, len(r.Tracks))
	for i, t := range r.Tracks {
		f := fmt.Sprintf("tracks[%d]", i)
		if !labelRe.MatchString(t.Label) || seen[t.Label] {
			return nil, badRequest(f+".label", t.Label, "must be a unique label of letters, digits, _ . -")
		}
		seen[t.Label] = true
		if t.Kind != "audio" && t.Kind != "video" {
			return nil, badRequest(f+".kind", t.Kind, "must be audio or video")
		}
		codec := t.Codec
		if codec == "" {
			codec = map[string]string{"audio": "PCMU", "video": "VP8"}[t.Kind]
		}
		d, ok := codecDefaults[codec]
		if !ok {
			return nil, badRequest(f+".codec", t.Codec, "must be PCMU, PCMA, G722, opus, VP8 or H264")
		}
		if d.kind != t.Kind {
			return nil, badRequest(f+".codec", codec, "is not a "+t.Kind+" codec")
		}
		pt := d.pt
		if t.PayloadType != nil {
			if *t.PayloadType > 127 {
				return nil, badRequest(f+".payloadType", *t.PayloadType, "must be 0-127")
			}
			pt = *t.PayloadType
		}
		rate := d.rate
		if t.ClockRate != 0 {
			rate = t.ClockRate
		}
		if t.DTMFPayloadType != nil && (*t.DTMFPayloadType > 127 || *t.DTMFPayloadType == pt) {
			return nil, badRequest(f+".dtmfPayloadType", *t.DTMFPayloadType, "must be 0-127 and differ from the media payload type")
		}
		if _, _, err := parseSource(t.Source); err != nil {
			return nil, badRequest(f+".source", t.Source, err.Error())
		}
		if t.SRTP != nil {
			if r.External {
				return nil, fmt.Errorf("%w: %s.srtp: this ingest path does not take SDES keys", ErrBadRequest, f)
			}
			if err := t.SRTP.check(); err != nil {
				return nil, fmt.Errorf("%w: %s.%w", ErrBadRequest, f, err)
			}
		}
		if t.Source == "" && !latching && !r.External {
			return nil, badRequest(f+".source", t.Source, "is required: the sender's IP or IP:port "+
				"(media.requireSource is on: latching the first sender would let any host that sends first inject audio)")
		}
		out[i] = seal.Track{Label: t.Label, Kind: t.Kind, Codec: codec, ClockRate: rate, PayloadType: pt}
	}
	return out, nil
}

// Create opens a session: it matches the policy, allocates ports when the
// call is recorded and starts the DEK request without waiting for it.
func (m *Manager) Create(ctx context.Context, req Request) (*Session, error) {
	tracks, err := req.validate(m.cfg.LatchWindow > 0)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	dec := m.deps.Policies().Match(policy.Call{QueueID: req.QueueID, Direction: req.Direction, CallerID: req.CallerID, At: now})
	if dec.Record && dec.Policy.RecordingType == policy.RecordingAudio {
		// An audio-only policy records the audio tracks only.
		var keep []TrackSpec
		var keepT []seal.Track
		for i, t := range req.Tracks {
			if t.Kind == "audio" {
				keep, keepT = append(keep, t), append(keepT, tracks[i])
			}
		}
		req.Tracks, tracks = keep, keepT
		if len(tracks) == 0 {
			dec.Record, dec.Reason = false, "policy "+dec.Policy.ID+" records audio only and the call has no audio track"
		}
	}
	if err := m.checkSRTP(req, dec); err != nil {
		return nil, err
	}
	sid, _, err := newID(16)
	if err != nil {
		return nil, err
	}
	s := &Session{ID: sid, Request: req, Decision: dec, StartedAt: now, Tracks: tracks, m: m, ended: make(chan struct{}),
		keyDone: make(chan struct{})}
	s.lastActivity.Store(now.UnixNano())
	s.keyState.Store("")
	s.keyReason.Store("")
	if dec.Record {
		s.redactDTMF = dec.Policy.RedactDTMF
		if err := m.deps.Recordings.Admit(); err != nil {
			// Accepting would have the media server send into a void:
			// refused, it fails over to a gateway that can record.
			return nil, fmt.Errorf("%w: %w", ErrCapacity, err)
		}
		if s.lc, err = m.deps.Recordings.Begin(recording.Start{SessionID: sid, CallID: req.CallID, QueueID: req.QueueID,
			Direction: req.Direction, CallerID: req.CallerID, AgentID: req.AgentID, PolicyID: dec.Policy.ID, PolicyVersion: dec.Policy.Version, StartedAt: now,
			Tracks: indexTracks(req, tracks), RetainUntil: dec.Policy.RetainUntil(now, m.cfg.RetentionDays)}); err != nil {
			return nil, err
		}
		s.RecordingID = s.lc.ID()
		s.rec = newRecorder(now, m.cfg.MaxPendingBytes, m.cfg.SealOptions)
		if err := m.openTracks(s); err != nil {
			return nil, err
		}
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		s.closeSockets(false)
		return nil, ErrClosed
	}
	if len(m.sessions) >= m.cfg.MaxSessions {
		m.mu.Unlock()
		s.closeSockets(false)
		return nil, fmt.Errorf("%w: %d sessions", ErrCapacity, m.cfg.MaxSessions)
	}
	m.sessions[sid] = s
	m.mu.Unlock()
	if !dec.Record {
		m.obs.SessionStarted(s)
		return s, nil
	}
	if err := s.lc.Started(); err != nil {
		m.mu.Lock()
		delete(m.sessions, sid)
		m.mu.Unlock()
		s.closeSockets(false)
		return nil, fmt.Errorf("%w: %w", ErrCapacity, err)
	}
	s.keyState.Store(KeyPending)
	// Stagger flushes so thousands of sessions do not fsync in one burst:
	// each session's flushes follow its own start. The first falls due
	// after half an interval, so that the call's first chunk is durable
	// within one interval of its start even when a loaded disk makes that
	// fsync slow (the key is there at once when the DEK pool is warm).
	m.flushes.add(s, now.Add(m.cfg.FlushInterval/2))
	m.obs.SessionStarted(s)
	for _, t := range s.tracks {
		if t.rtp == nil {
			continue // external ingest
		}
		if err := t.rtp.Start(s.onRTP(t)); err != nil {
			m.log.Errorw("media socket not read", "session", s.ID, "port", t.port, "error", err)
		}
		if err := t.rtcp.Start(s.onRTCP(t)); err != nil {
			m.log.Errorw("media socket not read", "session", s.ID, "port", t.port+1, "error", err)
		}
	}
	kreq := KeyRequest{RecordingID: s.RecordingID, Policy: dec.Policy,
		Context: recordingkey.ForRecording(m.cfg.OrgID, s.RecordingID, dec.Policy.ID)}
	m.keyWG.Add(1)
	m.deps.Keys.Acquire(m.keyCtx, kreq, func(g KeyGrant, err error) {
		defer m.keyWG.Done()
		s.keyArrived(g, kreq.Context, err)
	})
	return s, nil
}

func (m *Manager) openTracks(s *Session) error {
	if s.Request.External {
		for i, spec := range s.Request.Tracks {
			s.tracks = append(s.tracks, &track{index: uint8(i), label: spec.Label, kind: spec.Kind, dtmfPT: spec.dtmfPT()})
		}
		return nil
	}
	for i, spec := range s.Request.Tracks {
		rc, cc, err := m.ports.listenPair(m.ingest, m.cfg.SocketBuffer)
		if err != nil {
			s.closeSockets(false)
			return err
		}
		t := &track{index: uint8(i), label: spec.Label, kind: spec.Kind, rtp: rc, rtcp: cc,
			port: rc.Port(), dtmfPT: spec.dtmfPT()}
		if spec.SRTP != nil {
			// Keyed before the socket can deliver anything; the request
			// then forgets the key.
			k, err := newTrackSRTP(spec.SRTP)
			if err != nil {
				rc.Close(false)
				cc.Close(false)
				m.ports.release(rc.Port())
				s.closeSockets(false)
				return fmt.Errorf("%w: tracks[%d].%w", ErrBadRequest, i, err)
			}
			t.srtp.Store(k)
			s.Request.Tracks[i].SRTP = &TrackSRTP{Generate: string(k.suite)}
		}
		t.source, t.sourcePort, _ = parseSource(spec.Source) // validated in Create
		s.tracks = append(s.tracks, t)
	}
	return nil
}

// closeSockets closes the tracks' sockets; with drain, what the kernel
// still holds for them is recorded first.
func (s *Session) closeSockets(drain bool) {
	for _, t := range s.tracks {
		if t.rtp == nil {
			continue
		}
		t.rtp.Close(drain)
		t.rtcp.Close(drain)
		s.m.ports.release(t.port)
	}
}

// Get returns a live session.
func (m *Manager) Get(id string) (*Session, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.sessions[id]
	return s, ok
}

// Sessions returns the live sessions.
func (m *Manager) Sessions() []*Session {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		out = append(out, s)
	}
	return out
}

// EndedCounters returns the summed counters of sessions that have ended.
func (m *Manager) EndedCounters() CounterSnapshot {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.ended
}

// End finishes a session: stops ingest, seals the final chunk, makes it
// durable and seals the spool file for upload. Calling End again waits for
// the first call and returns the same summary.
func (m *Manager) End(ctx context.Context, id, reason string) (Summary, error) {
	s, ok := m.Get(id)
	if !ok {
		return Summary{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	s.endOnce.Do(func() { go s.finish(reason) })
	select {
	case <-s.ended:
		return s.summary, nil
	case <-ctx.Done():
		return Summary{}, ctx.Err()
	}
}

func (s *Session) finish(reason string) {
	m := s.m
	defer close(s.ended)
	// Drain: packets sent just before the end are still recorded. The
	// sockets are read for drainWindow more, then what the kernel still
	// holds is read as they close; no packet is in flight after this.
	if len(s.tracks) > 0 && s.tracks[0].rtp != nil {
		time.Sleep(drainWindow)
	}
	s.closeSockets(true)
	sum := Summary{SessionID: s.ID, RecordingID: s.RecordingID, Recorded: s.Decision.Record,
		EndReason: reason, Duration: time.Since(s.StartedAt).Seconds()}
	c := s.Counters()
	sum.Counters = c
	sum.Packets = c.Received
	sum.Bytes = c.Bytes
	sum.Dropped = c.ByReason()
	switch {
	case !s.Decision.Record:
		sum.Status, sum.Reason = StatusNotRecorded, s.Decision.Reason
	default:
		if st, _ := s.KeyState(); st == KeyPending {
			// The call ended before the DEK arrived: wait for it (bounded by
			// the broker's timeout) so the buffered media is not lost.
			s.waitKey()
		}
		st, why := s.KeyState()
		if st == KeyFailed {
			sum.Status, sum.Reason = StatusFailedClosed, why
			s.rec.Discard()
			break
		}
		retry := max(m.cfg.FlushInterval, 50*time.Millisecond)
		ws, err := s.rec.Close(time.Now().Add(m.cfg.finalWriteRetry()), retry)
		// The summary counts what reached disk; records sealed but never
		// written are lost, and counted so.
		rs := s.rec.Stats()
		sum.Chunks, sum.Records, sum.SealedBytes = rs.DurableChunks, rs.DurableRecords, rs.Durable
		sum.Dropped[DropWrite] += rs.Failures + max(ws.Records-rs.DurableRecords, 0)
		if errors.Is(err, ErrNotDurable) {
			sum.Status, sum.Reason = StatusWriteFailed, err.Error()
			m.log.Errorw("final chunk not written; recording left for recovery", "session", s.ID, "recording", s.RecordingID,
				"chunks", sum.Chunks, "error", err)
			s.lc.WriteFailed()
		} else if err != nil {
			sum.Status, sum.Reason = StatusFailed, err.Error()
			m.log.Errorw("recording could not be finalised", "session", s.ID, "recording", s.RecordingID, "error", err)
			s.lc.Failed(err)
		} else {
			sum.Status = StatusComplete
			s.lc.Ended(sum.Chunks, sum.SealedBytes)
		}
	}
	s.summary = sum
	m.mu.Lock()
	delete(m.sessions, s.ID)
	m.ended.Add(c)
	m.mu.Unlock()
	m.obs.SessionEnded(s, sum)
}

// keyWaitLimit bounds how long an ending call waits for its DEK; the key
// source answers well within it (the broker's timeout, then fallback).
const keyWaitLimit = 60 * time.Second

// waitKey waits until the key source has answered (keyArrived closed
// keyDone), at most keyWaitLimit.
func (s *Session) waitKey() {
	t := time.NewTimer(keyWaitLimit)
	defer t.Stop()
	select {
	case <-s.keyDone:
	case <-t.C:
	}
}

// Pause starts a secure pause; Resume ends it.
func (m *Manager) Pause(id string, paused bool) (*Session, error) {
	s, ok := m.Get(id)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	s.SetPaused(paused)
	return s, nil
}

// Run flushes sessions every flush interval and ends inactive ones, until
// ctx is done. Then it ends every session (graceful shutdown).
func (m *Manager) Run(ctx context.Context) error {
	m.log.Infow("media receiver", "backend", m.ingest.Backend(), "ports", fmt.Sprintf("%d-%d", m.cfg.PortMin, m.cfg.PortMax))
	// A fine tick: a flush starts at most one tick after it falls due,
	// and the delay counts in the recording lag.
	tick := time.NewTicker(min(m.cfg.FlushInterval/4, 10*time.Millisecond))
	defer tick.Stop()
	defer m.flushers.Wait()
	m.flushMax = flushWorkers
	if m.cfg.GroupCommit {
		m.flushMax = groupFlushWorkers
	}
	for {
		select {
		case <-ctx.Done():
			return m.shutdown()
		case now := <-tick.C:
			m.tick(now)
			m.startFlushers(ctx)
		}
	}
}

// tick queues the flushes that have fallen due and, every idleCheck,
// ends the sessions that have been silent for the inactivity timeout.
func (m *Manager) tick(now time.Time) {
	m.flushes.take(now, m.cfg.FlushInterval, func(s *Session, due time.Time) {
		select {
		case m.flushq <- flushJob{s, due}:
		default:
			go s.flush(due)
		}
	})
	if now.Before(m.idleAt) {
		return
	}
	m.idleAt = now.Add(m.idleCheck())
	inactive := now.Add(-m.cfg.InactivityTimeout).UnixNano()
	for _, s := range m.Sessions() {
		if s.lastActivity.Load() < inactive {
			s.endOnce.Do(func() { go s.finish("inactivity-timeout") })
		}
	}
}

// idleCheck is how often silent sessions are looked for: a twentieth of
// the inactivity timeout (a silent call ends at most 5 % late), at most a
// second.
func (m *Manager) idleCheck() time.Duration {
	return min(m.cfg.InactivityTimeout/20, time.Second)
}

// startFlushers starts a worker per queued flush, up to the bound. It runs
// every tick, so a flush queued just as the last workers found the queue
// empty waits at most one tick.
func (m *Manager) startFlushers(ctx context.Context) {
	for n := len(m.flushq); n > 0 && int(m.flushLive.Load()) < m.flushMax; n-- {
		m.flushLive.Add(1)
		m.flushers.Add(1)
		go m.flushLoop(ctx)
	}
}

// flushLoop is one flush worker: it flushes until the queue is empty, or
// until ctx ends (shutdown then ends every session, which seals and syncs
// what is left).
func (m *Manager) flushLoop(ctx context.Context) {
	defer m.flushers.Done()
	defer m.flushLive.Add(-1)
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-m.flushq:
			j.s.flush(j.due)
		default:
			return
		}
	}
}

// shutdown refuses new sessions and ends every live one.
func (m *Manager) shutdown() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	// Every session finishes at once: each waits out its drain window and
	// its final chunk's commit, and those overlap.
	sessions := m.Sessions()
	for _, s := range sessions {
		s.endOnce.Do(func() { go s.finish("shutdown") })
	}
	for _, s := range sessions {
		<-s.ended
	}
	m.keyStop()
	m.keyWG.Wait()
	m.ingest.Stop()
	return nil
}

// IsCapacity reports whether err means the gateway is at capacity.
func IsCapacity(err error) bool {
	return errors.Is(err, ErrCapacity) || errors.Is(err, syscall.EMFILE) || strings.Contains(fmt.Sprint(err), "too many open files")
}

type nopObserver struct{}

func (nopObserver) SessionStarted(*Session)                  {}
func (nopObserver) KeyReady(*Session, seal.Envelope, string) {}
func (nopObserver) KeyFailed(*Session, error)                {}
func (nopObserver) Durable(*Session, int64)                  {}
func (nopObserver) SessionEnded(*Session, Summary)           {}
