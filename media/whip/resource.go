package whip

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/recording"
)

var errClosed = errors.New("whip: server closed")

// duplicateError: the offer's ICE credentials belong to a live session
// (the same offer POSTed twice).
type duplicateError struct{ id string }

func (e *duplicateError) Error() string {
	return "the offer's ice-ufrag belongs to a live session"
}

// resource is one WHIP session: a PeerConnection feeding a media session.
type resource struct {
	id   string
	srv  *Server
	pc   *webrtc.PeerConnection
	sess *media.Session
	// index maps an m= section's mid to its track index in sess; mids of
	// tracks that are not recorded are absent. Read-only after open.
	index map[string]int
	kinds map[string]string // mid → audio/video

	patchMu     sync.Mutex // serialises PATCH
	etag        atomic.Value
	remoteUfrag string // guarded by patchMu after open
	oldUfrag    string

	mu      sync.Mutex
	closing bool
	loops   sync.WaitGroup // track and RTCP readers

	endOnce sync.Once
	done    chan struct{}
	summary media.Summary
	endErr  error
	lastPLI atomic.Int64
	live    atomic.Bool // registered: connection failures end the session
}

func (r *resource) currentETag() string { s, _ := r.etag.Load().(string); return s }

// open builds the PeerConnection, answers the offer and creates the media
// session. On error nothing is left behind.
func (s *Server) open(ctx context.Context, meta Meta, info offerInfo, offer []byte) (_ *resource, answer string, err error) {
	res := &resource{id: newToken(16), srv: s, index: map[string]int{}, kinds: map[string]string{},
		remoteUfrag: info.ufrag, done: make(chan struct{})}
	res.etag.Store(newETag())
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return nil, "", errClosed
	case s.byUfrag[info.ufrag] != nil:
		id := s.byUfrag[info.ufrag].id
		s.mu.Unlock()
		return nil, "", &duplicateError{id: id}
	}
	s.byUfrag[info.ufrag] = res // reserved while we set up
	s.mu.Unlock()
	defer func() {
		if err != nil {
			s.mu.Lock()
			delete(s.byUfrag, info.ufrag)
			s.mu.Unlock()
		}
	}()

	var servers []webrtc.ICEServer
	for _, is := range s.cfg.ICEServers {
		servers = append(servers, webrtc.ICEServer{URLs: is.URLs, Username: is.Username, Credential: is.Credential})
	}
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{ICEServers: servers, BundlePolicy: webrtc.BundlePolicyMaxBundle})
	if err != nil {
		return nil, "", err
	}
	res.pc = pc
	defer func() {
		if err != nil {
			_ = pc.Close()
		}
	}()
	pc.OnTrack(res.onTrack)
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		// Before open returns, failures are open's to clean up.
		if res.live.Load() && (st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed) {
			go func() { _, _ = res.terminate(context.Background(), "webrtc-"+st.String()) }()
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}); err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	byMid := map[string]offerMedia{}
	for _, m := range info.media {
		byMid[m.mid] = m
	}
	for _, tr := range pc.GetTransceivers() {
		om, ok := byMid[tr.Mid()]
		if !ok || !om.sends {
			continue
		}
		for _, c := range om.choices {
			if tr.SetCodecPreferences([]webrtc.RTPCodecParameters{c}) == nil {
				break
			}
		}
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	tracks, mids, err := tracksFromAnswer(ans.SDP, info, meta.AudioLabel)
	if err != nil {
		return nil, "", err
	}
	sess, err := s.m.Create(ctx, media.Request{CallID: meta.CallID, QueueID: meta.QueueID, Direction: meta.Direction,
		CallerID: meta.CallerID, AgentID: meta.AgentID, Tracks: tracks, External: true,
		Transport: recording.TransportDTLSSRTP})
	if err != nil {
		return nil, "", err
	}
	res.sess = sess
	defer func() {
		if err != nil {
			_, _ = s.m.End(context.Background(), sess.ID, "whip-setup-failed")
		}
	}()
	for i, t := range tracks {
		res.kinds[mids[i]] = t.Kind
		for j, rt := range sess.Tracks {
			if rt.Label == t.Label {
				res.index[mids[i]] = j
			}
		}
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return nil, "", err
	}
	select {
	case <-gathered:
	case <-time.After(s.cfg.GatherTimeout):
		s.log.Warnw("ICE gathering timed out; answering with the candidates so far", "session", sess.ID)
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, "", errClosed
	}
	s.res[res.id] = res
	s.wg.Add(1)
	res.live.Store(true)
	s.mu.Unlock()
	go res.watch()
	return res, pc.LocalDescription().SDP, nil
}

// tracksFromAnswer lists the recorded tracks: one per answered audio or
// video section the client sends on, with the codec and payload type the
// answer settled on (its first format).
func tracksFromAnswer(answer string, info offerInfo, audioLabel string) ([]media.TrackSpec, []string, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(answer); err != nil {
		return nil, nil, fmt.Errorf("parse own answer: %w", err)
	}
	sends := map[string]bool{}
	for _, m := range info.media {
		sends[m.mid] = m.sends
	}
	var tracks []media.TrackSpec
	var mids []string
	nAudio, nVideo := 0, 0
	for _, md := range sd.MediaDescriptions {
		mid, _ := md.Attribute("mid")
		kind := md.MediaName.Media
		if (kind != "audio" && kind != "video") || !sends[mid] || md.MediaName.Port.Value == 0 || len(md.MediaName.Formats) == 0 {
			continue
		}
		pt := md.MediaName.Formats[0]
		name := ""
		for _, a := range md.Attributes {
			if a.Key == "rtpmap" && strings.HasPrefix(a.Value, pt+" ") {
				name, _, _ = strings.Cut(strings.TrimPrefix(a.Value, pt+" "), "/")
			}
		}
		codec := codecName(kind + "/" + name)
		if codec == "" {
			continue // no recordable codec was negotiated for this section
		}
		var ptv uint8
		if _, err := fmt.Sscan(pt, &ptv); err != nil || ptv > 127 {
			continue
		}
		label := ""
		if kind == "audio" {
			nAudio++
			label = audioLabel
			if nAudio > 1 {
				label = fmt.Sprintf("audio-%d", nAudio)
			}
		} else {
			nVideo++
			label = defaultVideoLabel
			if nVideo > 1 {
				label = fmt.Sprintf("video-%d", nVideo)
			}
		}
		tracks = append(tracks, media.TrackSpec{Label: label, Kind: kind, Codec: codec, PayloadType: &ptv})
		mids = append(mids, mid)
	}
	if len(tracks) == 0 {
		return nil, nil, fmt.Errorf("%w: no section could be answered with Opus, VP8 or H.264", ErrBadOffer)
	}
	return tracks, mids, nil
}

// watch ends the WHIP session when its media session ends first
// (inactivity, shutdown, DELETE on the session API). A call that is not
// recorded delivers no packets, so the manager's inactivity timeout does
// not end its WHIP session: that lasts until DELETE, ICE failure or
// shutdown.
func (r *resource) watch() {
	defer r.srv.wg.Done()
	select {
	case <-r.sess.Ended():
		if !r.sess.Recorded() && r.sess.Summary().EndReason == "inactivity-timeout" {
			<-r.done
			return
		}
		_, _ = r.terminate(context.Background(), "media-session-ended")
	case <-r.done:
	}
}

// terminate closes the PeerConnection, waits for the readers and ends the
// media session, finalising the recording. Concurrent and repeated calls
// return the first call's result.
func (r *resource) terminate(ctx context.Context, reason string) (media.Summary, error) {
	r.endOnce.Do(func() {
		go func() {
			defer close(r.done)
			r.srv.mu.Lock()
			delete(r.srv.res, r.id)
			for u, o := range r.srv.byUfrag {
				if o == r {
					delete(r.srv.byUfrag, u)
				}
			}
			r.srv.mu.Unlock()
			r.mu.Lock()
			r.closing = true
			r.mu.Unlock()
			_ = r.pc.Close()
			r.loops.Wait()
			sum, err := r.srv.m.End(context.Background(), r.sess.ID, reason)
			if errors.Is(err, media.ErrNotFound) {
				sum, err = r.sess.Summary(), nil // it had already ended
			}
			r.summary, r.endErr = sum, err
		}()
	})
	select {
	case <-r.done:
		return r.summary, r.endErr
	case <-ctx.Done():
		return media.Summary{}, ctx.Err()
	}
}

// onTrack starts the readers of a remote track.
func (r *resource) onTrack(tr *webrtc.TrackRemote, rc *webrtc.RTPReceiver) {
	mid := ""
	for _, t := range r.pc.GetTransceivers() {
		if t.Receiver() == rc {
			mid = t.Mid()
		}
	}
	idx, ok := r.index[mid]
	if !ok {
		idx = -1 // not recorded (audio-only policy, not-recorded call): drained
	}
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		return
	}
	r.loops.Add(2)
	r.mu.Unlock()
	video := tr.Kind() == webrtc.RTPCodecTypeVideo
	go r.readRTCP(rc)
	go r.readTrack(tr, idx, video)
}

// readTrack hands every packet, exactly as decrypted, to the session.
func (r *resource) readTrack(tr *webrtc.TrackRemote, idx int, video bool) {
	defer r.loops.Done()
	ssrc := uint32(tr.SSRC())
	if video {
		r.sendPLI(ssrc, true)
	}
	buf := make([]byte, receiveBufferLength)
	var last uint16
	started := false
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			if errors.Is(err, io.ErrShortBuffer) {
				continue
			}
			return
		}
		if idx >= 0 {
			r.sess.Push(idx, time.Now(), buf[:n])
		}
		if !video || n < 4 {
			continue
		}
		seq := binary.BigEndian.Uint16(buf[2:4])
		if started {
			if d := int16(seq - last); d > 1 {
				r.sendPLI(ssrc, false) // a gap: the decoder may need a key frame
			}
			if int16(seq-last) > 0 {
				last = seq
			}
		} else {
			last, started = seq, true
		}
	}
}

// sendPLI asks for a key frame, at most once per pliInterval unless forced.
func (r *resource) sendPLI(ssrc uint32, force bool) {
	now := time.Now().UnixNano()
	if prev := r.lastPLI.Load(); !force && now-prev < int64(pliInterval) {
		return
	}
	r.lastPLI.Store(now)
	_ = r.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
}

// readRTCP drains the receiver so the interceptors see sender reports.
func (r *resource) readRTCP(rc *webrtc.RTPReceiver) {
	defer r.loops.Done()
	buf := make([]byte, receiveBufferLength)
	for {
		if _, _, err := rc.Read(buf); err != nil {
			return
		}
	}
}

// addCandidates applies trickled candidates.
func (r *resource) addCandidates(f Frag) error {
	for _, c := range f.Candidates {
		mid := c.Mid
		init := webrtc.ICECandidateInit{Candidate: "candidate:" + c.Candidate}
		if mid != "" {
			init.SDPMid = &mid
		}
		if err := r.pc.AddICECandidate(init); err != nil {
			return err
		}
	}
	if f.EndOfCandidates {
		return r.pc.AddICECandidate(webrtc.ICECandidateInit{})
	}
	return nil
}

// iceRestart applies new client credentials (RFC 9725 §4.4.2): the last
// offer with the ICE lines replaced is given to pion as a renegotiation,
// which restarts ICE with new local credentials; the new answer's
// credentials and candidates are returned as a fragment.
func (r *resource) iceRestart(ctx context.Context, f Frag) ([]byte, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(r.pc.RemoteDescription().SDP); err != nil {
		return nil, err
	}
	rewrite := func(attrs []sdp.Attribute) []sdp.Attribute {
		out := attrs[:0]
		for _, a := range attrs {
			switch a.Key {
			case "ice-ufrag":
				a.Value = f.Ufrag
			case "ice-pwd":
				a.Value = f.Pwd
			case "candidate", "end-of-candidates":
				continue
			}
			out = append(out, a)
		}
		return out
	}
	sd.Attributes = rewrite(sd.Attributes)
	for _, md := range sd.MediaDescriptions {
		md.Attributes = rewrite(md.Attributes)
	}
	offer, err := sd.Marshal()
	if err != nil {
		return nil, err
	}
	if err := r.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}); err != nil {
		return nil, err
	}
	ans, err := r.pc.CreateAnswer(nil)
	if err != nil {
		return nil, err
	}
	gathered := webrtc.GatheringCompletePromise(r.pc)
	if err := r.pc.SetLocalDescription(ans); err != nil {
		return nil, err
	}
	select {
	case <-gathered:
	case <-time.After(r.srv.cfg.GatherTimeout):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	r.oldUfrag, r.remoteUfrag = r.remoteUfrag, f.Ufrag
	r.etag.Store(newETag())
	if err := r.addCandidates(f); err != nil {
		return nil, err
	}
	var ld sdp.SessionDescription
	if err := ld.UnmarshalString(r.pc.LocalDescription().SDP); err != nil {
		return nil, err
	}
	ufrag, _ := ld.Attribute("ice-ufrag")
	pwd, _ := ld.Attribute("ice-pwd")
	var mline, mid string
	var cands []string
	if len(ld.MediaDescriptions) > 0 {
		md := ld.MediaDescriptions[0]
		if ufrag == "" {
			ufrag, _ = md.Attribute("ice-ufrag")
			pwd, _ = md.Attribute("ice-pwd")
		}
		mid, _ = md.Attribute("mid")
		mline = "m=" + md.MediaName.String()
		for _, a := range md.Attributes {
			if a.Key == "candidate" {
				cands = append(cands, a.Value)
			}
		}
	}
	return buildFrag(ufrag, pwd, mline, mid, cands), nil
}
