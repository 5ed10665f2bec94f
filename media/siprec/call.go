package siprec

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"sync"

	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/media/srtp"
	"github.com/mediaseal/mediaseal/policy"
)

// call is one recording session (a SIP dialog with an SRC).
type call struct {
	mu               sync.Mutex
	callID, fromTag  string
	toTag            string
	sess             *media.Session
	meta             *Metadata
	streams          map[string]*stream // by SDP/metadata label
	sdpID, version   uint64
	lastAnswer       []byte
	canceled, closed bool
}

// stream is a recorded stream: an SDP label bound to a media track.
type stream struct {
	label  string // a=label and metadata <label>
	track  string // media track label (caller, agent, ...)
	codec  codec
	source string // the track's declared sender (Offer.source); "" none
	// sdes is the offer's a=crypto value keying the SRC's packets on an
	// SRTP stream ("" plain), until the media session is keyed with it;
	// sdesSum identifies it afterwards (a re-INVITE that changes it
	// rekeys); answerCrypto is the SRS's own a=crypto in the answer (RFC
	// 4568 keys each direction; a recvonly SRS never sends under it).
	sdes         string
	sdesSum      [32]byte
	srtp         bool
	answerCrypto string
}

// sdesStream keys st from the offered line: the a=crypto the SRS accepts
// and an answer attribute of the same tag and suite.
func sdesStream(st *stream, ml *MediaLine) bool {
	v, tag, suite, ok := ml.pickCrypto()
	if !ok {
		return false
	}
	own, err := srtp.Generate(tag, suite)
	if err != nil {
		return false
	}
	st.sdes, st.sdesSum, st.srtp, st.answerCrypto = v, sha256.Sum256([]byte(v)), true, own.Attribute()
	clear(own.Key)
	return true
}

var trackLabelRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// roles names each participant's track: the mapped role when it is a
// usable label, otherwise caller, agent, participant-3... in order.
func roles(m *Metadata, rolePath string) map[string]string {
	out := map[string]string{}
	for i, p := range m.Participants {
		r := strings.ToLower(strings.TrimSpace(p.Role(rolePath)))
		if !trackLabelRe.MatchString(r) {
			switch i {
			case 0:
				r = "caller"
			case 1:
				r = "agent"
			default:
				r = fmt.Sprintf("participant-%d", i+1)
			}
		}
		out[p.ID] = r
	}
	return out
}

// plan binds the offer's media lines and the metadata's streams to media
// tracks. Lines without a recordable codec are declined (nil entry);
// metadata streams not in the SDP yet get a track now, because the track
// list of a sealed recording is fixed when its header is written.
//
// SRTP lines are recorded when SDES-keyed (RTP/SAVP, RTP/SAVPF with a
// usable a=crypto) and sdesOK says the keys came over a confidential SIP
// transport; otherwise they are declined, and an offer with nothing else
// to record is refused with ErrSRTPOffer saying why.
func plan(meta *Metadata, offer *Offer, rolePath string, sdesOK bool) ([]*stream, []*stream, error) {
	rs := roles(meta, rolePath)
	used := map[string]bool{}
	name := func(ms *Stream) string {
		base := "stream-" + ms.Label
		if p := meta.Sender(ms.ID); p != nil {
			base = rs[p.ID]
		}
		if !trackLabelRe.MatchString(base) {
			base = fmt.Sprintf("stream-%d", len(used)+1)
		}
		l := base
		for n := 2; used[l]; n++ {
			l = fmt.Sprintf("%s-%d", base, n)
		}
		used[l] = true
		return l
	}
	lines := make([]*stream, len(offer.Media))
	seen := map[string]bool{}
	usable, srtpOffered, why := 0, 0, ""
	for i, ml := range offer.Media {
		if ml.Label == "" {
			return nil, nil, wrap(ErrUnknownStream, "media line %d (%s) has no a=label", i+1, ml.Kind)
		}
		if seen[ml.Label] {
			return nil, nil, wrap(ErrUnknownStream, "label %q on two media lines", trunc(ml.Label))
		}
		seen[ml.Label] = true
		ms := meta.StreamByLabel(ml.Label)
		if ms == nil {
			return nil, nil, wrap(ErrUnknownStream, "media line %d label %q is not a stream of the metadata", i+1, trunc(ml.Label))
		}
		c, ok := ml.pickCodec()
		if !ok || ml.Port == 0 {
			if ml.srtp() && ml.Port != 0 {
				srtpOffered++
				why = "SRTP other than SDES (RTP/SAVP with a=crypto) is not received"
			}
			continue
		}
		st := &stream{label: ml.Label, track: name(ms), codec: c, source: offer.source(ml)}
		if ml.sdes() {
			srtpOffered++
			switch {
			case !sdesOK:
				why = "SDES keys offered over an unencrypted SIP transport; send the INVITE over TLS"
				continue
			case !sdesStream(st, ml):
				why = fmt.Sprintf("no a=crypto with a supported suite (%v) and parameters", srtp.Suites)
				continue
			}
		}
		lines[i] = st
		usable++
	}
	if usable == 0 && srtpOffered > 0 {
		return nil, nil, wrap(ErrSRTPOffer, "%d SRTP media line(s) not usable: %s", srtpOffered, why)
	}
	if usable == 0 {
		return nil, nil, wrap(ErrNoCodec, "no audio media line offers PCMU, PCMA, G722 or opus")
	}
	// A stream announced in the metadata only has no c= line yet: its
	// sender is taken to be the session's, else the first recorded line's
	// (one SRC sends every stream of a call).
	later := offer.source(nil)
	for _, st := range lines {
		if later == "" && st != nil {
			later = st.source
		}
	}
	var extra []*stream
	for _, ms := range meta.Streams {
		if !seen[ms.Label] && ms.Label != "" {
			seen[ms.Label] = true
			extra = append(extra, &stream{label: ms.Label, track: name(ms), codec: staticCodecs["0"], source: later})
		}
	}
	return lines, extra, nil
}

// request builds the media session request from the metadata mapping.
func (s *Server) request(meta *Metadata, sipCallID string, streams []*stream) media.Request {
	mp := s.cfg.Mapping
	req := media.Request{
		CallID:    firstNonEmpty(meta.Lookup(mp.CallID), meta.SIPSessionID, sipCallID),
		QueueID:   strings.TrimSpace(meta.Lookup(mp.QueueID)),
		Direction: direction(meta.Lookup(mp.Direction)),
	}
	req.CallID = limit(req.CallID, 256)
	rs := roles(meta, mp.ParticipantRole)
	for _, p := range meta.Participants {
		switch rs[p.ID] {
		case "caller":
			req.CallerID = limit(aorUser(p.AoR), 256)
		case "agent":
			req.AgentID = limit(aorUser(p.AoR), 256)
		}
	}
	for _, st := range streams {
		t := media.TrackSpec{Label: st.track, Kind: "audio", Codec: st.codec.Name, Source: st.source}
		pt, rate := st.codec.PT, st.codec.Rate
		t.PayloadType, t.ClockRate = &pt, rate
		t.DTMFPayloadType = st.codec.DTMF
		if st.sdes != "" {
			t.SRTP = &media.TrackSRTP{Crypto: st.sdes}
			st.sdes = "" // the media session holds the key from here on
		}
		req.Tracks = append(req.Tracks, t)
	}
	return req
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

func limit(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// direction maps vendor spellings to the policy directions (default INBOUND).
func direction(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "outbound", "out", "outgoing", "originating", "orig":
		return policy.DirectionOutbound
	}
	return policy.DirectionInbound
}

// aorUser is the user part of an AoR ("sip:+4412@host" -> "+4412").
func aorUser(aor string) string {
	_, rest, ok := strings.Cut(aor, ":")
	if !ok {
		rest = aor
	}
	user, _, _ := strings.Cut(rest, "@")
	user, _, _ = strings.Cut(user, ";")
	return user
}

// answer renders the SDP answer for offer; ports come from the session.
func (c *call) answer(adv netip.Addr, offer *Offer) []byte {
	ports := map[string]int{}
	if c.sess != nil {
		for _, a := range c.sess.Addrs() {
			if ap, err := netip.ParseAddrPort(a.RTP); err == nil {
				ports[a.Label] = int(ap.Port())
			}
		}
	}
	lines := make([]answerLine, len(offer.Media))
	for i, ml := range offer.Media {
		l := answerLine{kind: ml.Kind, proto: ml.Proto, label: ml.Label}
		if st := c.streams[ml.Label]; st != nil && ml.Port != 0 {
			if c2, ok := ml.pickCodec(); ok && c2.Name == st.codec.Name {
				l.port, l.codec = ports[st.track], st.codec
				l.codec.DTMF, l.codec.dtmfRate, l.codec.dtmfFmtp = c2.DTMF, c2.dtmfRate, c2.dtmfFmtp
				if st.codec.DTMF != nil && c2.DTMF != nil && *c2.DTMF != *st.codec.DTMF {
					l.codec.DTMF = st.codec.DTMF // the track redacts the PT negotiated first
				}
				l.direction = dirRecvOnly
				if ml.Inactive() {
					l.direction = dirInactive
				}
				l.crypto = st.answerCrypto
			}
		}
		lines[i] = l
	}
	b := buildAnswer(adv, c.sdpID, c.version, lines)
	if c.lastAnswer != nil && string(b) != string(c.lastAnswer) {
		c.version++
		b = buildAnswer(adv, c.sdpID, c.version, lines)
	}
	c.lastAnswer = b
	return b
}

// pausedBy reports whether the offer pauses the recording: every
// recorded stream it carries is inactive (RFC 7866 §7.1.2).
func (c *call) pausedBy(offer *Offer) bool {
	for _, ml := range offer.Media {
		if c.streams[ml.Label] != nil && !ml.Inactive() {
			return false
		}
	}
	return true
}
