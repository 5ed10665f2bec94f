package audiohook

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/recording"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// Channels of the protocol and the tracks they are recorded as (stereo
// export: the caller left, the agent right).
const (
	ChannelExternal = "external"
	ChannelInternal = "internal"
	LabelCaller     = "caller"
	LabelAgent      = "agent"
)

// probeConversation is the conversation id of Genesys's connection probe.
const probeConversation = "00000000-0000-0000-0000-000000000000"

// SampleRate is the only rate taken: PCMU at 8 kHz.
const SampleRate = 8000

// packetSamples cuts audio frames into 20 ms RTP packets, the size every
// other ingest records.
const packetSamples = 160

// rtpHeader is the fixed RTP header the audio is wrapped in, so it takes
// the path every ingest takes (validation, pause, recorder).
const rtpHeader = 12

// Media is one entry of open's media list (and of opened's answer).
type Media struct {
	Type     string   `json:"type"`
	Format   string   `json:"format"`
	Channels []string `json:"channels"`
	Rate     int      `json:"rate"`
}

type openParams struct {
	OrganizationID string `json:"organizationId"`
	ConversationID string `json:"conversationId"`
	Participant    struct {
		ID   string `json:"id"`
		ANI  string `json:"ani"`
		DNIS string `json:"dnis"`
	} `json:"participant"`
	Media        []Media        `json:"media"`
	CustomConfig map[string]any `json:"customConfig"`
	Language     string         `json:"language"`
}

type spanParams struct {
	Start     string `json:"start"`
	Discarded string `json:"discarded"`
}

// protoErr ends a session with a disconnect naming what went wrong.
type protoErr struct {
	reason string // counted
	err    error
}

func (e *protoErr) Error() string { return e.reason + ": " + e.err.Error() }

func fail(reason string, format string, args ...any) error {
	return &protoErr{reason: reason, err: fmt.Errorf(format, args...)}
}

// errClosed ends the read loop after a close message was answered.
var errClosed = errors.New("closed")

// stream is one AudioHook WebSocket: one session, one media session.
type stream struct {
	srv         *Server
	conn        *websocket.Conn
	integration string
	id          string // Audiohook-Session-Id: every message's id
	org         string

	mu        sync.Mutex // serverSeq, clientSeq: the reader and the pause watcher send
	serverSeq int64
	clientSeq int64

	lastServerSeq int64 // the highest serverseq the client acknowledged
	opened        bool  // open was answered (sess is nil for a probe)
	sess          *media.Session
	channels      []int // session track index per channel of the audio
	ssrc          []uint32
	seq           []uint16
	pos           int64 // samples placed so far (the timeline)
	anchor        time.Time
	pkt           []byte
	buf           []byte // the message being read
	clientPaused  atomic.Bool
	pauseSent     atomic.Bool
	// ownPause: the client's paused started the session's pause, so its
	// resumed may end it; a pause the session API set (a secure pause)
	// ends only through the API.
	ownPause bool
}

// run reads messages until the session ends and returns the counted reason.
func (st *stream) run(ctx context.Context) (reason string) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer func() {
		if st.sess != nil {
			if _, err := st.srv.m.End(context.Background(), st.sess.ID, "audiohook-"+reason); err != nil && !errors.Is(err, media.ErrNotFound) {
				st.srv.log.Warnw("AudioHook: ending session failed", "session", st.sess.ID, "error", err)
			}
		}
	}()
	var idle atomic.Bool
	timer := time.AfterFunc(st.srv.cfg.IdleTimeout, func() {
		idle.Store(true)
		_ = st.conn.Close(websocket.StatusPolicyViolation, "idle")
	})
	defer timer.Stop()
	// Reads take no context: coder/websocket arms a timer per read for a
	// cancellable one, a cost on every 20 ms frame. The connection is
	// closed once when ctx ends instead, which ends the read.
	stop := context.AfterFunc(ctx, func() { _ = st.conn.CloseNow() })
	defer stop()
	for {
		typ, data, err := st.read()
		switch {
		case err != nil && idle.Load():
			return "idle"
		case err != nil && strings.Contains(err.Error(), "read limited"):
			return "too_big"
		case err != nil:
			return "disconnect"
		}
		timer.Reset(st.srv.cfg.IdleTimeout)
		if st.sess != nil {
			select {
			case <-st.sess.Ended():
				return st.disconnect("session_ended", "completed", errors.New("the recording session ended"))
			default:
			}
		}
		if typ == websocket.MessageBinary {
			err = st.audio(data)
		} else {
			err = st.message(ctx, data)
		}
		var pe *protoErr
		switch {
		case err == nil:
		case errors.Is(err, errClosed):
			_ = st.conn.Close(websocket.StatusNormalClosure, "")
			return "close"
		case errors.As(err, &pe):
			return st.disconnect(pe.reason, "error", pe.err)
		default:
			return st.disconnect("malformed", "error", err)
		}
	}
}

// disconnect tells the client why the server ends the session, closes
// the WebSocket and returns the reason to count.
func (st *stream) disconnect(reason, why string, err error) string {
	st.srv.log.Infow("AudioHook session disconnected", "session", st.id, "reason", reason, "error", err)
	info := err.Error()
	if len(info) > 200 {
		info = info[:200]
	}
	_ = st.send(context.Background(), "disconnect", map[string]any{"reason": why, "info": info})
	_ = st.conn.Close(websocket.StatusNormalClosure, "")
	return reason
}

// send writes one server message; it is safe beside the reader.
func (st *stream) send(ctx context.Context, typ string, params any) error {
	st.mu.Lock()
	st.serverSeq++
	b, err := json.Marshal(map[string]any{"version": Version, "id": st.id, "type": typ, "seq": st.serverSeq,
		"clientseq": st.clientSeq, "parameters": params})
	st.mu.Unlock()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return st.conn.Write(ctx, websocket.MessageText, b)
}

// message handles one text message.
func (st *stream) message(ctx context.Context, data []byte) error {
	if int64(len(data)) > st.srv.cfg.MaxMessageBytes {
		return fail("too_big", "message of %d bytes", len(data))
	}
	m, err := Parse(data)
	if err != nil {
		return fail("malformed", "%v", err)
	}
	st.mu.Lock()
	want, sent := st.clientSeq+1, st.serverSeq
	if m.Seq == want {
		st.clientSeq = m.Seq
	}
	st.mu.Unlock()
	switch {
	case m.ID != st.id:
		return fail("session_id", "message id %q is not the session's", m.ID)
	case m.Seq != want:
		return fail("sequence", "seq %d, want %d", m.Seq, want)
	case m.ServerSeq > sent || m.ServerSeq < st.lastServerSeq:
		return fail("sequence", "serverseq %d (sent %d, acknowledged %d)", m.ServerSeq, sent, st.lastServerSeq)
	}
	st.lastServerSeq = m.ServerSeq
	if !st.opened {
		if m.Type != "open" {
			return fail("state", "%s before open", m.Type)
		}
		return st.open(ctx, m)
	}
	if st.sess == nil { // a connection probe: answered, nothing recorded
		switch m.Type {
		case "open":
			return fail("state", "open twice")
		case "ping":
			return st.send(ctx, "pong", struct{}{})
		case "close":
			if err := st.send(ctx, "closed", struct{}{}); err != nil {
				return err
			}
			return errClosed
		}
		return nil
	}
	if err := st.position(m.Position); err != nil {
		return err
	}
	switch m.Type {
	case "open":
		return fail("state", "open twice")
	case "ping":
		return st.send(ctx, "pong", struct{}{})
	case "paused":
		st.clientPaused.Store(true)
		if st.sess.SetPaused(true) && !st.pauseSent.Load() {
			st.ownPause = true
		}
	case "resumed":
		st.clientPaused.Store(false)
		if st.ownPause {
			st.ownPause = false
			st.sess.SetPaused(false)
		}
		return st.span(m.Parameters)
	case "discarded":
		return st.span(m.Parameters)
	case "update":
		return st.send(ctx, "updated", struct{}{})
	case "error":
		st.srv.Dropped.WithLabelValues("client_error").Inc()
		st.srv.log.Infow("AudioHook client reported an error", "session", st.id, "parameters", string(m.Parameters))
	case "close":
		if err := st.send(ctx, "closed", struct{}{}); err != nil {
			return err
		}
		return errClosed
	case "dtmf":
		st.dtmf(m.Parameters)
	}
	return nil // playback_* carry nothing to record
}

// open negotiates the media and opens the media session with the call
// fields of the open message.
func (st *stream) open(ctx context.Context, m Message) error {
	var p openParams
	if err := json.Unmarshal(m.Parameters, &p); err != nil {
		return fail("malformed", "open parameters: %v", err)
	}
	if st.org != "" && p.OrganizationID != "" && p.OrganizationID != st.org {
		return fail("organization", "open names organization %s, the upgrade %s", p.OrganizationID, st.org)
	}
	chosen, ok := choose(p.Media)
	if !ok {
		return fail("media", "no offered media can be recorded (want PCMU at 8000 Hz, external and/or internal)")
	}
	st.opened = true
	if p.ConversationID == probeConversation {
		// Genesys checks a new integration's endpoint with a session of
		// the nil conversation: it is answered like any, never recorded.
		st.srv.log.Infow("AudioHook connection probe", "session", st.id, "integration", st.integration)
		return st.send(ctx, "opened", map[string]any{"startPaused": false, "media": []Media{chosen}})
	}
	cfg := st.srv.cfg
	cc := func(k string) string {
		v, _ := p.CustomConfig[k].(string)
		return v
	}
	req := media.Request{CallID: p.ConversationID, QueueID: cc("queueId"), Direction: strings.ToUpper(cc("direction")),
		CallerID: p.Participant.ANI, AgentID: cc("agentId"), External: true, Transport: recording.TransportWebSocket}
	if req.Direction == "" {
		req.Direction = cfg.Direction
	}
	for _, ch := range chosen.Channels {
		req.Tracks = append(req.Tracks, media.TrackSpec{Label: label(ch), Kind: "audio", Codec: "PCMU"})
	}
	sess, err := st.srv.m.Create(ctx, req)
	switch {
	case errors.Is(err, media.ErrBadRequest):
		return fail("invalid_call", "%v", err)
	case errors.Is(err, storage.ErrSpoolFull), errors.Is(err, storage.ErrSpoolUnwritable), media.IsCapacity(err), errors.Is(err, media.ErrClosed):
		return fail("capacity", "cannot record now: %v", err)
	case err != nil:
		st.srv.log.Errorw("AudioHook: session not created", "session", st.id, "error", err)
		return fail("internal", "cannot create the session")
	}
	st.sess, st.anchor = sess, time.Now()
	st.pkt = make([]byte, rtpHeader+packetSamples)
	for _, ch := range chosen.Channels {
		idx := -1
		for j, t := range sess.Tracks {
			if t.Label == label(ch) {
				idx = j
			}
		}
		var b [4]byte
		_, _ = rand.Read(b[:])
		st.channels, st.ssrc, st.seq = append(st.channels, idx), append(st.ssrc, binary.BigEndian.Uint32(b[:])), append(st.seq, 0)
	}
	st.srv.log.Infow("AudioHook session opened", "session", st.id, "media", sess.ID, "recording", sess.RecordingID,
		"conversation", p.ConversationID, "queue", req.QueueID, "recorded", sess.Recorded(), "integration", st.integration)
	go st.watchPause(ctx)
	return st.send(ctx, "opened", map[string]any{"startPaused": false, "media": []Media{chosen}})
}

// choose picks PCMU 8 kHz, stereo (external and internal) first, else one
// channel.
func choose(offered []Media) (Media, bool) {
	var mono *Media
	for i, m := range offered {
		if m.Type != "audio" || m.Format != "PCMU" || m.Rate != SampleRate {
			continue
		}
		switch {
		case len(m.Channels) == 2 && m.Channels[0] != m.Channels[1] && known(m.Channels[0]) && known(m.Channels[1]):
			return m, true
		case len(m.Channels) == 1 && known(m.Channels[0]) && mono == nil:
			mono = &offered[i]
		}
	}
	if mono != nil {
		return *mono, true
	}
	return Media{}, false
}

func known(ch string) bool { return ch == ChannelExternal || ch == ChannelInternal }

func label(ch string) string {
	if ch == ChannelExternal {
		return LabelCaller
	}
	return LabelAgent
}

// position reads a message's position: audio the client counted but did
// not send (a gap) is silence up to it; a position behind the audio
// already placed is a protocol error.
func (st *stream) position(pos string) error {
	if pos == "" {
		return nil
	}
	d, err := ParseDuration(pos)
	if err != nil {
		return fail("malformed", "position: %v", err)
	}
	at := int64(d) * SampleRate / int64(time.Second)
	if at < st.pos {
		return fail("position", "position %s is behind the %s of audio received", pos, FormatDuration(time.Duration(st.pos)*time.Second/SampleRate))
	}
	st.pos = at
	return nil
}

// span moves the timeline past audio the client discarded (a discarded
// message, or the span of a pause in resumed): it is silence.
func (st *stream) span(raw json.RawMessage) error {
	var p spanParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return fail("malformed", "%v", err)
	}
	start, err1 := ParseDuration(p.Start)
	n, err2 := ParseDuration(p.Discarded)
	if err := errors.Join(err1, err2); err != nil {
		return fail("malformed", "%v", err)
	}
	if end := int64(start+n) * SampleRate / int64(time.Second); end > st.pos {
		st.pos = end
	}
	return nil
}

// audio splits an interleaved frame into its channels and pushes each as
// 20 ms RTP packets placed at the timeline's position.
func (st *stream) audio(frame []byte) error {
	switch {
	case !st.opened:
		return fail("state", "audio before opened")
	case st.sess == nil: // a probe's audio is not recorded
		st.srv.Dropped.WithLabelValues("probe").Inc()
		return nil
	case int64(len(frame)) > st.srv.cfg.MaxFrameBytes:
		return fail("too_big", "audio frame of %d bytes", len(frame))
	case len(frame)%len(st.channels) != 0:
		return fail("frame", "audio frame of %d bytes is not whole samples of %d channels", len(frame), len(st.channels))
	}
	if st.clientPaused.Load() {
		st.srv.Dropped.WithLabelValues("paused").Inc()
		return nil
	}
	nch := len(st.channels)
	samples := len(frame) / nch
	lead := time.Duration(st.pos+int64(samples))*time.Second/SampleRate - time.Since(st.anchor)
	if lead > st.srv.cfg.MaxSkew {
		return fail("position", "audio runs %s ahead of the session's clock", lead.Round(time.Millisecond))
	}
	for off := 0; off < samples; off += packetSamples {
		n := min(packetSamples, samples-off)
		tick := st.pos + int64(off)
		at := st.anchor.Add(time.Duration(tick) * time.Second / SampleRate)
		for c, idx := range st.channels {
			if idx < 0 {
				continue
			}
			pkt := st.pkt[:rtpHeader+n]
			pkt[0], pkt[1] = 0x80, 0 // RTP v2, PCMU
			binary.BigEndian.PutUint16(pkt[2:], st.seq[c])
			binary.BigEndian.PutUint32(pkt[4:], uint32(tick))
			binary.BigEndian.PutUint32(pkt[8:], st.ssrc[c])
			for i := 0; i < n; i++ {
				pkt[rtpHeader+i] = frame[(off+i)*nch+c]
			}
			st.seq[c]++
			st.sess.Push(idx, at, pkt)
		}
	}
	st.pos += int64(samples)
	return nil
}

// dtmf records a digit as an event on the caller's track (only the fact
// under a redactDtmf policy).
func (st *stream) dtmf(raw json.RawMessage) {
	var p struct {
		Digit string `json:"digit"`
	}
	if json.Unmarshal(raw, &p) != nil || len(p.Digit) != 1 || !strings.Contains("0123456789*#ABCD", p.Digit) || st.channels[0] < 0 || !st.sess.Recorded() {
		st.srv.Dropped.WithLabelValues("dtmf_not_recorded").Inc()
		return
	}
	data := []byte(`{"event":"dtmf","digit":"` + p.Digit + `"}`)
	if pol := st.sess.Decision.Policy; pol != nil && pol.RedactDTMF {
		data = media.DTMFMarker
	}
	if !st.sess.Mark(st.channels[0], seal.RecordEvent, st.anchor.Add(time.Duration(st.pos)*time.Second/SampleRate), data) {
		st.srv.Dropped.WithLabelValues("dtmf_not_recorded").Inc()
	}
}

// watchPause asks the client to pause when the session is paused through
// the session API (a secure pause), and to resume when it is resumed.
func (st *stream) watchPause(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-st.sess.Ended():
			return
		case <-t.C:
		}
		paused := st.sess.Paused()
		switch {
		case paused && !st.clientPaused.Load() && !st.pauseSent.Load():
			st.pauseSent.Store(true)
			_ = st.send(ctx, "pause", struct{}{})
		case !paused && st.pauseSent.Load():
			st.pauseSent.Store(false)
			_ = st.send(ctx, "resume", struct{}{})
		}
	}
}

// read reads one message into the stream's buffer (reused: a frame is
// the whole message, copied out before the next read).
func (st *stream) read() (websocket.MessageType, []byte, error) {
	typ, r, err := st.conn.Reader(context.Background())
	if err != nil {
		return 0, nil, err
	}
	st.buf = st.buf[:0]
	for {
		if len(st.buf) == cap(st.buf) {
			st.buf = append(st.buf, 0)[:len(st.buf)]
		}
		n, err := r.Read(st.buf[len(st.buf):cap(st.buf)])
		st.buf = st.buf[:len(st.buf)+n]
		if err == io.EOF {
			return typ, st.buf, nil
		}
		if err != nil {
			return 0, nil, err
		}
	}
}
