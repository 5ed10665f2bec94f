package media

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/recordingkey"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/recording"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// AllTracks is the track index of events that apply to every track.
const AllTracks = 0xFF

// TrackSpec is a track asked for in a session request.
type TrackSpec struct {
	Label       string `json:"label"`
	Kind        string `json:"kind"`                  // audio or video
	Codec       string `json:"codec,omitempty"`       // PCMU (default audio), PCMA, opus, VP8, H264
	PayloadType *uint8 `json:"payloadType,omitempty"` // default from the codec
	ClockRate   uint32 `json:"clockRate,omitempty"`   // default from the codec
	// Source is the sender: "IP" (any port of that host) or "IP:port"
	// ("[IPv6]:port"). Required unless the manager allows latching; see
	// docs/sessions.md for what each form protects against.
	Source string `json:"source,omitempty"`
	// DTMFPayloadType is the RTP payload type of RFC 4733 telephone-events
	// on this track (negotiated in SDP); default 101.
	DTMFPayloadType *uint8 `json:"dtmfPayloadType,omitempty"`
	// SRTP asks for SDES-SRTP on this track (docs/sessions.md); nil: plain RTP.
	SRTP *TrackSRTP `json:"srtp,omitempty"`
}

// Request opens a session.
type Request struct {
	CallID    string      `json:"callId"`
	QueueID   string      `json:"queueId"`
	Direction string      `json:"direction"`
	CallerID  string      `json:"callerId"`
	AgentID   string      `json:"agentId"`
	Tracks    []TrackSpec `json:"tracks"`
	// External is set by ingest paths that deliver packets themselves
	// (WHIP, tests) through Session.Push instead of allocated UDP ports.
	External bool `json:"-"`
	// Transport is how an External path's media travelled (e.g.
	// recording.TransportDTLSSRTP for WHIP), for the index.
	Transport string `json:"-"`
}

// State of a session's recording key.
const (
	KeyPending  = "PENDING"
	KeyReady    = "READY"
	KeyFallback = "FALLBACK"
	KeyFailed   = "FAILED_CLOSED"
)

// Session is one call being recorded (or deliberately not recorded).
type Session struct {
	// srtpMu guards the generated SRTP keys until the answer takes them.
	srtpMu      sync.Mutex
	ID          string
	RecordingID string
	Request     Request
	Decision    policy.Decision
	StartedAt   time.Time
	Tracks      []seal.Track

	m            *Manager
	lc           *recording.Recording // nil when not recorded
	tracks       []*track
	rec          *Recorder
	paused       atomic.Bool
	redactDTMF   bool // policy: telephone-events never reach the recorder
	lastActivity atomic.Int64
	keyState     atomic.Value // string
	keyReason    atomic.Value // string
	envelope     atomic.Pointer[seal.Envelope]
	keyDone      chan struct{} // closed once the key source has answered
	kmsContext   atomic.Pointer[[]byte]
	flushing     atomic.Bool

	endOnce sync.Once
	ended   chan struct{}
	summary Summary
}

// Summary describes a finished session.
type Summary struct {
	SessionID   string           `json:"sessionId"`
	RecordingID string           `json:"recordingId"`
	Recorded    bool             `json:"recorded"`
	Status      Status           `json:"status"`
	Reason      string           `json:"reason,omitempty"`
	Packets     int64            `json:"packets"`
	Dropped     map[string]int64 `json:"dropped"`
	Bytes       int64            `json:"bytes"`
	Chunks      int64            `json:"chunks"`
	Records     int64            `json:"records"`
	SealedBytes int64            `json:"sealedBytes"`
	Duration    float64          `json:"durationSeconds"`
	EndReason   string           `json:"endReason"`
	Counters    CounterSnapshot  `json:"-"`
}

// TrackAddr is where a media server sends a track.
type TrackAddr struct {
	Label string         `json:"label"`
	RTP   string         `json:"rtp"`
	SRTP  *TrackSRTPInfo `json:"srtp,omitempty"`
}

// Addrs returns the RTP address of each track.
func (s *Session) Addrs() []TrackAddr {
	out := make([]TrackAddr, len(s.tracks))
	for i, t := range s.tracks {
		out[i] = TrackAddr{Label: t.label, RTP: netip.AddrPortFrom(s.m.cfg.AdvertiseAddr, uint16(t.port)).String()}
		if k := t.srtp.Load(); k != nil {
			out[i].SRTP = &TrackSRTPInfo{Suite: string(k.suite)}
		}
	}
	return out
}

// Recorded reports whether a policy records this call.
func (s *Session) Recorded() bool { return s.Decision.Record }

// Paused reports whether the session is in secure pause.
func (s *Session) Paused() bool { return s.paused.Load() }

// KeyState returns the key state and reason (PENDING, READY, FALLBACK, FAILED_CLOSED).
func (s *Session) KeyState() (string, string) {
	st, _ := s.keyState.Load().(string)
	r, _ := s.keyReason.Load().(string)
	return st, r
}

// KMSContext returns the KMS context the recording's DEK is wrapped under,
// canonically encoded (kms/recordingkey.Marshal); nil until the DEK has
// arrived.
func (s *Session) KMSContext() []byte {
	if p := s.kmsContext.Load(); p != nil {
		return *p
	}
	return nil
}

// Envelope returns the key envelope once the DEK has arrived.
func (s *Session) Envelope() *seal.Envelope { return s.envelope.Load() }

// Counters returns the summed counters of every track.
func (s *Session) Counters() CounterSnapshot {
	var c CounterSnapshot
	for _, t := range s.tracks {
		c.Add(t.counters.Snapshot())
	}
	return c
}

// Ended is closed when the session has ended.
func (s *Session) Ended() <-chan struct{} { return s.ended }

// Summary returns the summary of an ended session.
func (s *Session) Summary() Summary {
	<-s.ended
	return s.summary
}

func newID(n int) (string, [32]byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:n]); err != nil {
		return "", b, err
	}
	return hex.EncodeToString(b[:n]), b, nil
}

// Push delivers one RTP packet of track i from an ingest path that owns
// its transport (WHIP). pkt is copied. It applies the same validation,
// pause and counting as the UDP path.
func (s *Session) Push(i int, at time.Time, pkt []byte) {
	if i < 0 || i >= len(s.tracks) {
		return
	}
	t := s.tracks[i]
	t.counters.Received.Add(1)
	t.counters.Bytes.Add(int64(len(pkt)))
	var hdr rtp.Header
	if !validRTP(&hdr, pkt) {
		t.counters.Malformed.Add(1)
		return
	}
	s.deliver(t, at, pkt)
}

// deliver is the common tail of every ingest path for a valid RTP packet.
func (s *Session) deliver(t *track, at time.Time, pkt []byte) {
	s.lastActivity.Store(at.UnixNano())
	if s.paused.Load() {
		// Secure pause: the packet is gone before any buffering.
		t.counters.Paused.Add(1)
		return
	}
	if s.redactDTMF && pkt[1]&0x7f == t.dtmfPT {
		s.redactEvent(t, at, pkt)
		return
	}
	switch s.rec.Packet(t.index, at, pkt) {
	case "":
		t.counters.Recorded.Add(1)
	case DropOverflow:
		t.counters.Overflow.Add(1)
	case DropWrite:
		t.counters.Write.Add(1)
	default:
		t.counters.Closed.Add(1)
	}
}

// Mark records an event record (e.g. a DTMF marker) on track i.
func (s *Session) Mark(i int, typ seal.RecordType, at time.Time, data []byte) bool {
	if s.rec == nil {
		return false
	}
	return s.rec.Mark(typ, uint8(i), at, data)
}

// SetPaused starts or ends a secure pause and records a marker.
func (s *Session) SetPaused(paused bool) bool {
	if s.paused.Swap(paused) == paused {
		return false
	}
	typ := seal.RecordResume
	if paused {
		typ = seal.RecordPause
	}
	if s.rec != nil {
		s.rec.Mark(typ, AllTracks, time.Now(), nil)
	}
	return true
}

// checkBye ends the session once every track that carried media has sent
// an RTCP BYE.
func (s *Session) checkBye() {
	any := false
	for _, t := range s.tracks {
		if !t.carried.Load() {
			continue
		}
		any = true
		if !t.bye.Load() {
			return
		}
	}
	if any {
		go s.m.End(context.Background(), s.ID, "rtcp-bye")
	}
}

// keyArrived takes the key source's answer (in the source's goroutine);
// requested is the recording's own context, which the DEK is bound to
// unless the grant names another (a pooled DEK).
func (s *Session) keyArrived(g KeyGrant, requested kms.EncryptionContext, err error) {
	defer clear(g.DEK)
	defer close(s.keyDone)
	log := s.m.log.With("session", s.ID, "recording", s.RecordingID)
	if g.Context == nil {
		g.Context = requested
	}
	if err == nil {
		var ec []byte
		if ec, err = recordingkey.Marshal(g.Context); err == nil {
			s.kmsContext.Store(&ec)
		}
	}
	if err != nil {
		s.keyState.Store(KeyFailed)
		s.keyReason.Store(err.Error())
		s.rec.Discard()
		log.Warnw("recording key unavailable; policy fails closed, call not recorded", "error", err)
		s.lc.KeyFailed()
		s.m.obs.KeyFailed(s, err)
		return
	}
	f, err := s.lc.Open()
	if err != nil {
		s.keyState.Store(KeyFailed)
		s.keyReason.Store(err.Error())
		s.rec.Discard()
		log.Errorw("cannot spool recording", "error", err)
		s.lc.KeyFailed()
		s.m.obs.KeyFailed(s, err)
		return
	}
	h := seal.Header{Context: s.sealContext(), KMSContext: g.Context, Envelope: g.Envelope, RecordingID: s.lc.SealID()}
	if err := s.rec.Activate(f, g.DEK, h); err != nil {
		_ = f.Discard()
		s.keyState.Store(KeyFailed)
		s.keyReason.Store(err.Error())
		log.Errorw("cannot start sealed writer", "error", err)
		s.lc.KeyFailed()
		s.m.obs.KeyFailed(s, err)
		return
	}
	env := g.Envelope
	s.envelope.Store(&env)
	if g.Envelope.Key.Fallback {
		s.keyState.Store(KeyFallback)
		s.keyReason.Store(g.Reason)
	} else {
		s.keyState.Store(KeyReady)
	}
	s.lc.KeyReady(env, s.KMSContext())
	s.m.obs.KeyReady(s, env, g.Reason)
	// Make what was buffered durable now rather than at the next tick.
	s.flush(time.Time{})
}

func (s *Session) sealContext() seal.Context {
	c := seal.Context{
		OrgID: s.m.cfg.OrgID, CallID: s.Request.CallID, QueueID: s.Request.QueueID,
		Direction: s.Request.Direction, StartedAt: s.StartedAt.UnixNano(), Tracks: s.Tracks,
	}
	if p := s.Decision.Policy; p != nil {
		c.PolicyID, c.PolicyVersion = p.ID, p.Version
	}
	return c
}

// flush makes sealed media durable; concurrent calls collapse into one.
// due is when the flush fell due (zero when not scheduled).
func (s *Session) flush(due time.Time) {
	if s.rec == nil || !s.flushing.CompareAndSwap(false, true) {
		return
	}
	defer s.flushing.Store(false)
	start := time.Now()
	durable, err := s.rec.Flush()
	if fo := s.m.fobs; fo != nil {
		done := time.Now()
		fo.Flushed(s, FlushTiming{Due: due, Start: start, Done: done, Took: done.Sub(start), Err: err})
	}
	if err != nil {
		s.m.log.Errorw("flush failed; will retry", "session", s.ID, "error", err)
		return
	}
	s.lc.Durable(durable)
	s.m.obs.Durable(s, durable)
}
