package twilio

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/recording"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// Track labels in the media session: Twilio's inbound audio is the
// caller's, outbound the agent's (stereo export: left, right).
const (
	LabelCaller = "caller"
	LabelAgent  = "agent"
)

// rtpHeader is the fixed RTP header the chunks are wrapped in, so that
// they take the path every ingest takes (validation, pause, recorder).
const rtpHeader = 12

// errStopped ends the read loop after a stop message.
var errStopped = errors.New("stopped")

// closeError is a reason to close the WebSocket: its status, the
// counted reason and the text sent in the close frame.
type closeError struct {
	status websocket.StatusCode
	reason string
	err    error
}

func (e *closeError) Error() string { return e.reason + ": " + e.err.Error() }

func protocolErr(reason string, err error) *closeError {
	return &closeError{status: websocket.StatusPolicyViolation, reason: reason, err: err}
}

// trackState is one Twilio track's place in the session.
type trackState struct {
	index     int // in the session's tracks; -1: not in start.tracks
	ssrc      uint32
	lastChunk int64
	endTick   int64 // where the last chunk ended, in samples
	seq       uint16
}

// stream is one WebSocket: one Twilio stream, one media session.
type stream struct {
	srv       *Server
	conn      *websocket.Conn
	principal string

	connected bool
	seq       int64 // last sequenceNumber
	sid       string
	sess      *media.Session
	anchor    time.Time // when start arrived: timestamp 0
	tracks    [2]trackState
	pkt       []byte // one RTP packet, reused
}

// run reads messages until the stream ends and returns the counted reason.
func (st *stream) run(ctx context.Context) (reason string) {
	defer func() {
		if st.sess != nil {
			if _, err := st.srv.m.End(context.Background(), st.sess.ID, "twilio-"+reason); err != nil && !errors.Is(err, media.ErrNotFound) {
				st.srv.log.Warnw("Twilio stream: ending session failed", "session", st.sess.ID, "error", err)
			}
		}
	}()
	// A Read whose context expires drops the connection without a close
	// frame: the idle timer closes it properly instead, and Read returns.
	var idle atomic.Bool
	timer := time.AfterFunc(st.srv.cfg.IdleTimeout, func() {
		idle.Store(true)
		_ = st.conn.Close(websocket.StatusPolicyViolation, fmt.Sprintf("idle: nothing for %s", st.srv.cfg.IdleTimeout))
	})
	defer timer.Stop()
	for {
		typ, data, err := st.conn.Read(ctx)
		switch {
		case err != nil && idle.Load():
			st.srv.log.Infow("Twilio stream closed", "stream", st.sid, "reason", "idle")
			return "idle"
		case err != nil && strings.Contains(err.Error(), "read limited"):
			return "too_big" // the library has closed with 1009
		case err != nil:
			return "disconnect"
		case typ != websocket.MessageText:
			return st.close(protocolErr("binary", errors.New("Media Streams messages are text")))
		}
		if !timer.Reset(st.srv.cfg.IdleTimeout) {
			return "idle" // fired while this message was read
		}
		if st.sess != nil {
			select {
			case <-st.sess.Ended():
				return st.close(&closeError{websocket.StatusGoingAway, "session_ended", errors.New("the recording session ended")})
			default:
			}
		}
		m, err := Parse(data)
		if err == nil {
			err = st.handle(ctx, m)
		}
		var ce *closeError
		switch {
		case err == nil:
		case errors.Is(err, errStopped):
			_ = st.conn.Close(websocket.StatusNormalClosure, "")
			return "stop"
		case errors.As(err, &ce):
			return st.close(ce)
		case errors.Is(err, ErrUnknownEvent):
			return st.close(protocolErr("unknown_event", err))
		case errors.Is(err, ErrFormat):
			return st.close(&closeError{websocket.StatusUnsupportedData, "format", err})
		default:
			return st.close(protocolErr("malformed", err))
		}
	}
}

// close sends the close frame (its text cut to the protocol's 123 bytes)
// and returns the reason to count.
func (st *stream) close(ce *closeError) string {
	text := ce.Error()
	if len(text) > 123 {
		text = text[:123]
	}
	st.srv.log.Infow("Twilio stream closed", "stream", st.sid, "reason", ce.reason, "error", ce.err)
	_ = st.conn.Close(ce.status, text)
	return ce.reason
}

func (st *stream) handle(ctx context.Context, m Message) error {
	if !st.connected {
		if m.Event != EventConnected {
			return protocolErr("state", fmt.Errorf("%s before connected", m.Event))
		}
		st.connected = true
		return nil
	}
	if m.Event == EventConnected {
		return protocolErr("state", errors.New("connected twice"))
	}
	if m.Seq != st.seq+1 {
		return protocolErr("sequence", fmt.Errorf("sequenceNumber %d after %d", m.Seq, st.seq))
	}
	st.seq = m.Seq
	if st.sess == nil {
		if m.Event != EventStart {
			return protocolErr("state", fmt.Errorf("%s before start", m.Event))
		}
		return st.start(ctx, m)
	}
	if m.Stream != st.sid {
		return protocolErr("state", fmt.Errorf("streamSid %s differs from the stream's %s", m.Stream, st.sid))
	}
	switch m.Event {
	case EventStart:
		return protocolErr("state", errors.New("start twice"))
	case EventMedia:
		return st.media(m.Media)
	case EventDTMF:
		st.dtmf(m.DTMF)
	case EventMark:
		// Marks answer a bidirectional stream's own marks; nothing to record.
	case EventStop:
		return errStopped
	}
	return nil
}

// start opens the media session with the call fields of customParameters.
func (st *stream) start(ctx context.Context, m Message) error {
	cfg := st.srv.cfg
	s := m.Start
	if cfg.AccountSid != "" && s.AccountSid != cfg.AccountSid {
		return protocolErr("account", fmt.Errorf("accountSid %s is not the configured account", s.AccountSid))
	}
	p := s.Params
	req := media.Request{CallID: p["callId"], QueueID: p["queueId"], Direction: strings.ToUpper(p["direction"]),
		CallerID: p["callerId"], AgentID: p["agentId"], External: true, Transport: recording.TransportWebSocket}
	if req.CallID == "" {
		req.CallID = s.CallSid
	}
	if req.Direction == "" {
		req.Direction = cfg.Direction
	}
	st.tracks = [2]trackState{{index: -1}, {index: -1}}
	for _, t := range s.Tracks {
		req.Tracks = append(req.Tracks, media.TrackSpec{Label: label(t), Kind: "audio", Codec: "PCMU"})
	}
	sess, err := st.srv.m.Create(ctx, req)
	switch {
	case errors.Is(err, media.ErrBadRequest):
		return protocolErr("invalid_call", err)
	case errors.Is(err, storage.ErrSpoolFull), errors.Is(err, storage.ErrSpoolUnwritable), media.IsCapacity(err), errors.Is(err, media.ErrClosed):
		return &closeError{websocket.StatusTryAgainLater, "capacity", err}
	case err != nil:
		st.srv.log.Errorw("Twilio stream: session not created", "stream", m.Stream, "error", err)
		return &closeError{websocket.StatusInternalError, "internal", errors.New("cannot create the session")}
	}
	st.sess, st.sid, st.anchor = sess, m.Stream, time.Now()
	st.pkt = make([]byte, rtpHeader+MaxPayload)
	for i, t := range []string{TrackInbound, TrackOutbound} {
		for j, rt := range sess.Tracks {
			if rt.Label == label(t) {
				st.tracks[i].index = j
			}
		}
		var b [4]byte
		_, _ = rand.Read(b[:])
		st.tracks[i].ssrc = binary.BigEndian.Uint32(b[:])
	}
	st.srv.log.Infow("Twilio stream started", "stream", m.Stream, "session", sess.ID, "recording", sess.RecordingID,
		"call", req.CallID, "queue", req.QueueID, "recorded", sess.Recorded(), "principal", st.principal)
	return nil
}

func label(track string) string {
	if track == TrackInbound {
		return LabelCaller
	}
	return LabelAgent
}

func trackOf(track string) int {
	if track == TrackInbound {
		return 0
	}
	return 1
}

// media wraps a chunk in an RTP packet whose timestamp is the chunk's
// (in samples) and delivers it as arriving at anchor + timestamp: the
// export places audio by both, so a gap in Twilio's timestamps is
// silence of the gap's length, and a burst of late chunks is not
// compressed time.
func (st *stream) media(md *Media) error {
	t := &st.tracks[trackOf(md.Track)]
	lead := time.Duration(md.TimestampMS)*time.Millisecond - time.Since(st.anchor)
	switch {
	case md.Chunk <= t.lastChunk:
		st.srv.Dropped.WithLabelValues("chunk_order").Inc()
		return nil
	case lead > st.srv.cfg.MaxLead:
		return protocolErr("timestamp", fmt.Errorf("timestamp %d ms runs %s ahead of the stream's clock", md.TimestampMS, lead.Round(time.Millisecond)))
	}
	tick := md.TimestampMS * (SampleRate / 1000)
	if tick < t.endTick {
		// Overlaps audio already placed: two chunks for one instant.
		st.srv.Dropped.WithLabelValues("overlap").Inc()
		return nil
	}
	t.lastChunk, t.endTick = md.Chunk, tick+int64(len(md.Audio))
	if t.index < 0 {
		if st.sess.Recorded() {
			st.srv.Dropped.WithLabelValues("track_not_started").Inc()
		}
		return nil
	}
	pkt := st.pkt[:rtpHeader+len(md.Audio)]
	pkt[0], pkt[1] = 0x80, 0 // RTP v2, PCMU
	binary.BigEndian.PutUint16(pkt[2:], t.seq)
	binary.BigEndian.PutUint32(pkt[4:], uint32(tick))
	binary.BigEndian.PutUint32(pkt[8:], t.ssrc)
	copy(pkt[rtpHeader:], md.Audio)
	t.seq++
	st.sess.Push(t.index, st.anchor.Add(time.Duration(md.TimestampMS)*time.Millisecond), pkt)
	return nil
}

// dtmf records a key press as an event record on its track (the digit,
// or only the fact under a redactDtmf policy); counted when the session
// cannot record it.
func (st *stream) dtmf(d *DTMF) {
	t := &st.tracks[trackOf(d.Track)]
	if !st.sess.Recorded() || t.index < 0 {
		st.srv.Dropped.WithLabelValues("dtmf_not_recorded").Inc()
		return
	}
	data := []byte(`{"event":"dtmf","digit":"` + d.Digit + `"}`) // Digit is one of 0-9*#A-D
	if p := st.sess.Decision.Policy; p != nil && p.RedactDTMF {
		data = media.DTMFMarker
	}
	at := st.anchor.Add(time.Duration(t.endTick) * time.Second / SampleRate)
	if !st.sess.Mark(t.index, seal.RecordEvent, at, data) {
		st.srv.Dropped.WithLabelValues("dtmf_not_recorded").Inc()
	}
}
