package siprec

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/media/srtp"
)

const (
	allowMethods  = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE"
	acceptTypes   = typeSDP + ", " + typeMetadata + ", " + typeMultipart
	optionSIPREC  = "siprec"
	featureSRC    = "+sip.src"
	featureSRS    = "+sip.srs"
	maxReasonText = 200
)

// reasonHeader is a Reason header (RFC 3326, in responses RFC 6432)
// carrying the status and a sanitised explanation.
func reasonHeader(code int, text string) sip.Header {
	text = strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, text)
	return sip.NewHeader("Reason", fmt.Sprintf(`SIP;cause=%d;text="%s"`, code, limit(text, maxReasonText)))
}

func (s *Server) respond(req *sip.Request, tx sip.ServerTransaction, code int, phrase string, body []byte, toTag string, hdrs ...sip.Header) error {
	res := sip.NewResponseFromRequest(req, code, phrase, body)
	if toTag != "" && code > 100 {
		if to := res.To(); to != nil {
			to.Params.Add("tag", toTag)
		}
	}
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	return tx.Respond(res)
}

// reject answers with the status err maps to and a Reason saying why.
func (s *Server) reject(req *sip.Request, tx sip.ServerTransaction, err error, toTag string, hdrs ...sip.Header) {
	code, phrase := Status(err)
	switch {
	case errors.Is(err, ErrMediaType):
		hdrs = append(hdrs, sip.NewHeader("Accept", acceptTypes))
	case errors.Is(err, ErrSRTPOffer), errors.Is(err, media.ErrSRTPRequired):
		hdrs = append(hdrs, sip.NewHeader("Warning", `302 mediaseal "Incompatible transport protocol: SRTP needs RTP/SAVP with a usable a=crypto, over TLS; or offer RTP/AVP"`))
	case errors.Is(err, ErrNoCodec):
		hdrs = append(hdrs, sip.NewHeader("Warning", `305 mediaseal "Incompatible media format"`))
	}
	s.log.Infow("SIPREC request refused", "method", req.Method, "callId", req.CallID().Value(), "status", code, "error", err)
	_ = s.respond(req, tx, code, phrase, nil, toTag, append(hdrs, reasonHeader(code, err.Error()))...)
}

func newTag() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// admit applies the allow-list to every request.
func (s *Server) admit(req *sip.Request, tx sip.ServerTransaction) bool {
	if s.allowed(req) {
		return true
	}
	s.log.Warnw("SIP request from a source not in siprec.auth.allowFrom", "source", req.Source(), "method", req.Method)
	_ = s.respond(req, tx, 403, "Forbidden", nil, "", reasonHeader(403, "source not allowed"))
	return false
}

// unsupported lists the Require option tags the SRS does not implement.
func unsupported(req *sip.Request) (tags []string, siprec bool) {
	for _, h := range req.GetHeaders("Require") {
		for _, t := range strings.Split(h.Value(), ",") {
			t = strings.TrimSpace(t)
			switch strings.ToLower(t) {
			case "":
			case optionSIPREC:
				siprec = true
			default:
				tags = append(tags, t)
			}
		}
	}
	return tags, siprec
}

func isSRC(req *sip.Request) bool {
	if c := req.Contact(); c != nil {
		return c.Params.Has(featureSRC)
	}
	return false
}

func (s *Server) contactHeader(req *sip.Request) sip.Header {
	addr := s.contact[strings.ToUpper(req.Transport())]
	if addr == "" {
		for _, a := range s.contact {
			addr = a
			break
		}
	}
	return sip.NewHeader("Contact", fmt.Sprintf("<sip:srs@%s;transport=%s>;%s", addr, strings.ToLower(req.Transport()), featureSRS))
}

func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if !s.admit(req, tx) {
		return
	}
	if tag, ok := req.To().Params.Get("tag"); ok && tag != "" {
		s.onModify(req, tx)
		return
	}
	if _, chal := s.authenticate(req); chal != nil {
		_ = s.respond(req, tx, 401, "Unauthorized", nil, "", sip.NewHeader("WWW-Authenticate", chal.String()))
		return
	}
	tags, siprec := unsupported(req)
	if len(tags) > 0 {
		_ = s.respond(req, tx, 420, "Bad Extension", nil, "", sip.NewHeader("Unsupported", strings.Join(tags, ", ")))
		return
	}
	if !siprec && !isSRC(req) {
		_ = s.respond(req, tx, 421, "Extension Required", nil, "", sip.NewHeader("Require", optionSIPREC),
			reasonHeader(421, "not a recording session: Require: siprec or Contact +sip.src expected"))
		return
	}
	c := &call{callID: req.CallID().Value(), toTag: newTag(), streams: map[string]*stream{}}
	c.fromTag, _ = req.From().Params.Get("tag")
	if stx, ok := tx.(*sip.ServerTx); ok {
		stx.OnCancel(func(*sip.Request) {
			c.mu.Lock()
			c.canceled = true
			c.mu.Unlock()
		})
	}
	_ = s.respond(req, tx, 100, "Trying", nil, "")
	answer, err := s.open(c, req)
	if err != nil {
		var hdrs []sip.Header
		code, _ := Status(err)
		if errors.Is(err, media.ErrClosed) || media.IsCapacity(err) {
			code = 503
			hdrs = append(hdrs, sip.NewHeader("Retry-After", "5"))
			_ = s.respond(req, tx, 503, "Service Unavailable", nil, c.toTag, append(hdrs, reasonHeader(503, err.Error()))...)
			return
		}
		if errors.Is(err, errDeclined) {
			_ = s.respond(req, tx, 603, "Decline", nil, c.toTag, reasonHeader(603, err.Error()))
			return
		}
		if code == 500 {
			s.log.Errorw("SIPREC session could not be opened", "callId", c.callID, "error", err)
			err = errors.New("internal error")
		}
		s.reject(req, tx, err, c.toTag)
		return
	}
	if s.testHookAnswer != nil {
		s.testHookAnswer()
	}
	c.mu.Lock()
	canceled := c.canceled
	c.mu.Unlock()
	if !canceled {
		s.mu.Lock()
		if old := s.calls[c.callID]; old != nil {
			s.mu.Unlock()
			s.endCall(c, "siprec-duplicate")
			_ = s.respond(req, tx, 482, "Loop Detected", nil, c.toTag, reasonHeader(482, "a recording session with this Call-ID exists"))
			return
		}
		s.calls[c.callID] = c
		s.mu.Unlock()
		err = s.respond(req, tx, 200, "OK", answer, c.toTag, s.contactHeader(req),
			sip.NewHeader("Content-Type", typeSDP), sip.NewHeader("Allow", allowMethods), sip.NewHeader("Supported", optionSIPREC))
	}
	if canceled || err != nil {
		// CANCEL won the race (sipgo answered 487) or the 200 could not be sent.
		s.drop(c, "siprec-cancel")
		return
	}
	s.log.Infow("SIPREC session started", "callId", c.callID, "session", c.sess.ID, "recording", c.sess.RecordingID,
		"call", c.sess.Request.CallID, "queue", c.sess.Request.QueueID, "tracks", len(c.sess.Tracks))
}

var errDeclined = errors.New("siprec: recording declined by policy")

// open parses the recording session and creates its media session.
func (s *Server) open(c *call, req *sip.Request) ([]byte, error) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	body, err := SplitBody(ct, req.Body())
	if err != nil {
		return nil, err
	}
	if body.Metadata == nil {
		return nil, wrap(ErrNoMetadata, "the INVITE carries no %s part", typeMetadata)
	}
	if body.SDP == nil {
		return nil, wrap(ErrNoSDP, "the INVITE carries no %s part", typeSDP)
	}
	meta, err := ParseMetadata(body.Metadata)
	if err != nil {
		return nil, err
	}
	offer, err := ParseSDP(body.SDP)
	if err != nil {
		return nil, err
	}
	lines, extra, err := plan(meta, offer, s.cfg.Mapping.ParticipantRole, s.sdesAllowed(req))
	if err != nil {
		return nil, err
	}
	var all []*stream
	for _, st := range lines {
		if st != nil {
			all = append(all, st)
		}
	}
	all = append(all, extra...)
	mreq := s.request(meta, c.callID, all)
	sess, err := s.m.Create(context.Background(), mreq)
	if err != nil {
		return nil, err
	}
	c.sess, c.meta = sess, meta
	if !sess.Recorded() {
		s.endCall(c, "not-recorded")
		return nil, fmt.Errorf("%w: %s", errDeclined, sess.Decision.Reason)
	}
	for _, st := range all {
		c.streams[st.label] = st
	}
	var id [8]byte
	rand.Read(id[:])
	c.sdpID = binary.BigEndian.Uint64(id[:]) >> 2
	c.version = 1
	if c.pausedBy(offer) {
		sess.SetPaused(true)
	}
	return c.answer(s.cfg.AdvertiseAddr, offer), nil
}

func (s *Server) drop(c *call, reason string) {
	s.mu.Lock()
	if s.calls[c.callID] == c {
		delete(s.calls, c.callID)
	}
	s.mu.Unlock()
	s.endCall(c, reason)
}

// dialog finds the call an in-dialog request belongs to.
func (s *Server) dialog(req *sip.Request) *call {
	from, _ := req.From().Params.Get("tag")
	to, _ := req.To().Params.Get("tag")
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[req.CallID().Value()]
	if c == nil || c.fromTag != from || c.toTag != to {
		return nil
	}
	return c
}

// onModify handles a re-INVITE or UPDATE: metadata updates, streams
// joining, and a=inactive pause / resume.
func (s *Server) onModify(req *sip.Request, tx sip.ServerTransaction) {
	c := s.dialog(req)
	if c == nil {
		_ = s.respond(req, tx, 481, "Call/Transaction Does Not Exist", nil, "")
		return
	}
	// Offers are answered synchronously, so a request that overlaps the
	// previous one just waits for it.
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		_ = s.respond(req, tx, 481, "Call/Transaction Does Not Exist", nil, "")
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	body, err := SplitBody(ct, req.Body())
	if err != nil {
		s.reject(req, tx, err, "")
		return
	}
	meta := c.meta
	if body.Metadata != nil {
		u, err := ParseMetadata(body.Metadata)
		if err != nil {
			s.reject(req, tx, err, "")
			return
		}
		meta = c.meta.Merge(u)
	}
	ok := []sip.Header{s.contactHeader(req), sip.NewHeader("Allow", allowMethods)}
	if body.SDP == nil {
		c.meta = meta
		if req.IsInvite() { // offerless re-INVITE: our current description is the offer
			_ = s.respond(req, tx, 200, "OK", c.lastAnswer, "", append(ok, sip.NewHeader("Content-Type", typeSDP))...)
			return
		}
		_ = s.respond(req, tx, 200, "OK", nil, "", ok...)
		return
	}
	offer, err := ParseSDP(body.SDP)
	if err != nil {
		s.reject(req, tx, err, "")
		return
	}
	var warn []sip.Header
	for i, ml := range offer.Media {
		if ml.Label == "" {
			s.reject(req, tx, wrap(ErrUnknownStream, "media line %d (%s) has no a=label", i+1, ml.Kind), "")
			return
		}
		if c.streams[ml.Label] != nil {
			continue
		}
		if meta.StreamByLabel(ml.Label) == nil {
			s.reject(req, tx, wrap(ErrUnknownStream, "media line %d label %q is not a stream of the metadata", i+1, trunc(ml.Label)), "")
			return
		}
		// A stream the metadata did not announce at INVITE: the track
		// list of the sealed recording is fixed, so it is declined.
		warn = append(warn, sip.NewHeader("Warning", fmt.Sprintf(`304 mediaseal "stream %s not announced in the initial metadata"`, trunc(ml.Label))))
	}
	rekeys, err := s.sdesChanges(c, offer, req)
	if err != nil {
		s.reject(req, tx, err, "")
		return
	}
	for _, rk := range rekeys {
		if err := c.sess.RekeySRTP(rk.st.track, rk.value); err != nil {
			s.reject(req, tx, wrap(ErrSRTPOffer, "stream %s: %v", trunc(rk.st.label), err), "")
			return
		}
		rk.st.sdesSum, rk.st.answerCrypto = rk.sum, rk.answer
		s.log.Infow("SIPREC stream rekeyed", "callId", c.callID, "session", c.sess.ID, "stream", rk.st.label)
	}
	c.meta = meta
	paused := c.pausedBy(offer)
	if c.sess.SetPaused(paused) {
		s.log.Infow("SIPREC recording pause changed", "callId", c.callID, "session", c.sess.ID, "paused", paused)
	}
	answer := c.answer(s.cfg.AdvertiseAddr, offer)
	_ = s.respond(req, tx, 200, "OK", answer, "", append(append(ok, sip.NewHeader("Content-Type", typeSDP)), warn...)...)
}

func (s *Server) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	if s.admit(req, tx) {
		s.onModify(req, tx)
	}
}

func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if !s.admit(req, tx) {
		return
	}
	c := s.dialog(req)
	if c == nil {
		_ = s.respond(req, tx, 481, "Call/Transaction Does Not Exist", nil, "")
		return
	}
	// The dialog stays findable until drop: a BYE that finds it already
	// closing (a retransmission with a new transaction, a second leg
	// tearing down) is told the dialog is gone, and the call ends once.
	c.mu.Lock()
	closing := c.closed
	c.closed = true
	c.mu.Unlock()
	if closing {
		_ = s.respond(req, tx, 481, "Call/Transaction Does Not Exist", nil, "")
		return
	}
	_ = s.respond(req, tx, 200, "OK", nil, "")
	s.log.Infow("SIPREC session ended by BYE", "callId", c.callID, "session", c.sess.ID)
	s.drop(c, "siprec-bye")
}

// onCancel sees only CANCELs that match no pending INVITE (sipgo answers
// the others itself: 200 to the CANCEL, 487 to the INVITE).
func (s *Server) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	_ = s.respond(req, tx, 481, "Call/Transaction Does Not Exist", nil, "")
}

func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if !s.admit(req, tx) {
		return
	}
	_ = s.respond(req, tx, 200, "OK", nil, "", sip.NewHeader("Allow", allowMethods),
		sip.NewHeader("Accept", acceptTypes), sip.NewHeader("Supported", optionSIPREC))
}

func (s *Server) onNoRoute(req *sip.Request, tx sip.ServerTransaction) {
	if req.IsAck() {
		return
	}
	_ = s.respond(req, tx, 405, "Method Not Allowed", nil, "", sip.NewHeader("Allow", allowMethods))
}

// rekey is a recorded SRTP stream's new key from a re-INVITE.
type rekey struct {
	st            *stream
	value, answer string
	sum           [32]byte
}

// sdesChanges checks a re-offer's recorded streams against how they are
// recorded, before anything changes: a stream keeps its protection (an
// SRTP stream re-offered as plain RTP, or a plain one re-offered as SRTP,
// is refused: the track's protection is fixed, and a downgrade would
// record what anyone could have injected), and an SRTP stream whose
// a=crypto changed is rekeyed (returned), under the same rules as at
// INVITE.
func (s *Server) sdesChanges(c *call, offer *Offer, req *sip.Request) ([]rekey, error) {
	var out []rekey
	for _, ml := range offer.Media {
		st := c.streams[ml.Label]
		if st == nil || ml.Port == 0 {
			continue
		}
		switch {
		case st.srtp && !ml.sdes():
			return nil, wrap(ErrSRTPOffer, "stream %s is recorded as SRTP and is re-offered as %s", trunc(ml.Label), trunc(ml.Proto))
		case !st.srtp && ml.srtp():
			return nil, wrap(ErrSRTPOffer, "stream %s is recorded as plain RTP and is re-offered as %s", trunc(ml.Label), trunc(ml.Proto))
		case !st.srtp:
			continue
		case !s.sdesAllowed(req):
			return nil, wrap(ErrSRTPOffer, "SDES keys offered over an unencrypted SIP transport; send the re-INVITE over TLS")
		}
		v, tag, suite, ok := ml.pickCrypto()
		if !ok {
			return nil, wrap(ErrSRTPOffer, "stream %s: no a=crypto with a supported suite (%v) and parameters", trunc(ml.Label), srtp.Suites)
		}
		sum := sha256.Sum256([]byte(v))
		if sum == st.sdesSum {
			continue
		}
		own, err := srtp.Generate(tag, suite)
		if err != nil {
			return nil, err
		}
		out = append(out, rekey{st: st, value: v, answer: own.Attribute(), sum: sum})
		clear(own.Key)
	}
	return out, nil
}
