package media

import (
	"errors"
	"fmt"
	"sync"

	"github.com/pion/rtp"

	"github.com/mediaseal/mediaseal/media/srtp"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/recording"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// TrackSRTP asks for SDES-SRTP (RFC 4568 keying) on a track of the session
// API: Crypto carries the key the sender encrypts with, as the value of
// its a=crypto attribute ("1 AES_CM_128_HMAC_SHA1_80 inline:KEY"), or
// Generate names a suite for the gateway to make a key of, returned once
// in the answer. The key lives in memory only: this type prints and
// encodes without it, and the session forgets it once the track is keyed.
type TrackSRTP struct {
	Crypto   string `json:"crypto,omitempty"`
	Generate string `json:"generate,omitempty"`
}

// String describes t without its key (for %v and %+v).
func (t TrackSRTP) String() string {
	if t.Generate != "" {
		return "srtp(generate " + t.Generate + ")"
	}
	return "srtp(crypto given)"
}

// GoString is String (for %#v).
func (t TrackSRTP) GoString() string { return t.String() }

// MarshalJSON encodes t without its key, so a request logged or echoed as
// JSON carries no key material.
func (t TrackSRTP) MarshalJSON() ([]byte, error) {
	if t.Generate != "" {
		return fmt.Appendf(nil, `{"generate":%q}`, t.Generate), nil
	}
	return []byte(`{"crypto":"(redacted)"}`), nil
}

// TrackSRTPInfo is what the session API shows of a track's SRTP: its suite,
// and in the answer that created it the key the gateway generated.
type TrackSRTPInfo struct {
	Suite  string `json:"suite"`
	Crypto string `json:"crypto,omitempty"`
}

// errSRTPSpec is a refused srtp member; it never names key material.
var errSRTPSpec = errors.New("srtp")

// check validates t as keys would, without generating a key.
func (t *TrackSRTP) check() error {
	if t.Generate != "" && t.Crypto == "" {
		if _, ok := srtp.ParseSuite(t.Generate); !ok {
			return fmt.Errorf("%w: generate: suite %q not supported (want one of %v)", errSRTPSpec, t.Generate, srtp.Suites)
		}
		return nil
	}
	c, more, _, err := t.keys()
	clear(c.Key)
	for _, m := range more {
		clear(m.Key)
	}
	return err
}

// keys parses or generates t's key: the crypto the receivers use, and the
// attribute to hand back when the gateway made it.
func (t *TrackSRTP) keys() (c srtp.Crypto, more []srtp.Crypto, generated string, err error) {
	switch {
	case (t.Crypto == "") == (t.Generate == ""):
		return c, nil, "", fmt.Errorf("%w: give exactly one of crypto (the sender's a=crypto value) or generate (a suite)", errSRTPSpec)
	case t.Generate != "":
		suite, ok := srtp.ParseSuite(t.Generate)
		if !ok {
			return c, nil, "", fmt.Errorf("%w: generate: suite %q not supported (want one of %v)", errSRTPSpec, t.Generate, srtp.Suites)
		}
		if c, err = srtp.Generate(1, suite); err != nil {
			return c, nil, "", err
		}
		return c, nil, c.Attribute(), nil
	default:
		c, more, err = srtp.ParseCrypto(t.Crypto)
		return c, more, "", err // ParseCrypto's errors name the field at fault, never the key
	}
}

// trackSRTP decrypts one track's SRTP and SRTCP. The RTP receiver is used
// only by the loop reading the track's RTP socket; SRTCP may arrive on
// either socket (RFC 5761 multiplexing), so its receiver is locked.
type trackSRTP struct {
	suite  srtp.Suite
	rtp    *srtp.Receiver
	rtcpMu sync.Mutex
	rtcp   *srtp.Receiver
	// generated is the key the gateway made, until the answer takes it.
	generated string
	// prevRTP and prevRTCP are the receivers of the key this one replaced
	// (a SIPREC re-INVITE that rekeys): packets the sender encrypted
	// before it switched still authenticate, so none is lost. prevRTP is
	// dropped by the RTP loop at the first packet of the new key; scratch
	// keeps the packet intact for the second try (a failed AEAD open may
	// overwrite its buffer).
	prevRTP  *srtp.Receiver
	prevRTCP *srtp.Receiver
	scratch  []byte
}

// newTrackSRTP keys a track from its request member.
func newTrackSRTP(spec *TrackSRTP) (*trackSRTP, error) {
	c, more, generated, err := spec.keys()
	if err != nil {
		return nil, err
	}
	rx, err := srtp.NewReceiver(c, more...)
	if err != nil {
		return nil, err
	}
	rtcpRx, err := srtp.NewReceiver(c, more...)
	if err != nil {
		return nil, err
	}
	clear(c.Key)
	for _, m := range more {
		clear(m.Key)
	}
	return &trackSRTP{suite: c.Suite, rtp: rx, rtcp: rtcpRx, generated: generated}, nil
}

// count records a refused packet under its reason.
func (c *Counters) count(v srtp.Verdict) {
	switch v {
	case srtp.Auth:
		c.Auth.Add(1)
	case srtp.Replay:
		c.Replay.Add(1)
	default:
		c.Malformed.Add(1)
	}
}

// openRTP authenticates and decrypts an SRTP packet in place; nil when it
// is refused (counted).
func (t *track) openRTP(pkt []byte, hdr *rtp.Header) []byte {
	k := t.srtp.Load()
	if k.prevRTP == nil {
		out, v := k.rtp.RTP(pkt, pkt, hdr)
		if v != srtp.OK {
			t.counters.count(v)
			return nil
		}
		return out
	}
	out, v := k.rtp.RTP(k.scratch[:0], pkt, hdr)
	if v == srtp.OK {
		k.prevRTP = nil // the sender has switched keys
		return out
	}
	if v == srtp.Auth {
		if out, pv := k.prevRTP.RTP(pkt, pkt, hdr); pv == srtp.OK {
			return out
		}
	}
	t.counters.count(v)
	return nil
}

// openRTCP authenticates and decrypts an SRTCP compound packet; nil when
// it is refused (counted). Plain RTCP on an SRTP track is refused like a
// forgery: a BYE must not end an encrypted call unauthenticated.
func (t *track) openRTCP(pkt []byte) []byte {
	k := t.srtp.Load()
	k.rtcpMu.Lock()
	out, v := k.rtcp.RTCP(nil, pkt)
	if v == srtp.Auth && k.prevRTCP != nil {
		var pv srtp.Verdict
		if out, pv = k.prevRTCP.RTCP(nil, pkt); pv == srtp.OK {
			v = srtp.OK
		}
	}
	k.rtcpMu.Unlock()
	if v != srtp.OK {
		t.counters.count(v)
		return nil
	}
	return out
}

// GeneratedSRTP returns, once, the key the gateway generated for each
// track that asked for one (by track index; "" for the others): the answer
// that creates the session hands it to the media server, and the session
// then forgets it.
func (s *Session) GeneratedSRTP() []string {
	s.srtpMu.Lock()
	defer s.srtpMu.Unlock()
	out := make([]string, len(s.tracks))
	for i, t := range s.tracks {
		if k := t.srtp.Load(); k != nil {
			out[i], k.generated = k.generated, ""
		}
	}
	return out
}

// indexTracks describes the tracks for the recordings index: codec and
// how each travelled (RTP, SRTP and its suite, or the External path's).
func indexTracks(req Request, tracks []seal.Track) []recording.Track {
	out := make([]recording.Track, len(tracks))
	for i, t := range tracks {
		out[i] = recording.Track{Label: t.Label, Kind: t.Kind, Codec: t.Codec, Transport: recording.TransportRTP}
		switch spec := req.Tracks[i].SRTP; {
		case req.External && req.Transport != "":
			out[i].Transport = req.Transport
		case spec != nil:
			out[i].Transport, out[i].Suite = recording.TransportSRTP, spec.suite()
		}
	}
	return out
}

// suite is the suite t names (validated by check before).
func (t *TrackSRTP) suite() string {
	if t.Generate != "" {
		s, _ := srtp.ParseSuite(t.Generate)
		return string(s)
	}
	c, more, err := srtp.ParseCrypto(t.Crypto)
	clear(c.Key)
	for _, m := range more {
		clear(m.Key)
	}
	if err != nil {
		return ""
	}
	return string(c.Suite)
}

// RefusedSRTPRequired is the refusal reason (metrics) of ErrSRTPRequired.
const RefusedSRTPRequired = "srtp_required"

// checkSRTP applies the gateway's SRTP rule and the policy's to a session
// about to be recorded. Ingest paths that deliver packets themselves
// (External: WHIP's DTLS-SRTP) protect media in transit on their own.
func (m *Manager) checkSRTP(req Request, dec policy.Decision) error {
	if m.cfg.SRTP == "off" {
		for i, t := range req.Tracks {
			if t.SRTP != nil {
				return fmt.Errorf("%w: tracks[%d].srtp: SRTP is off on this gateway (media.srtp)", ErrBadRequest, i)
			}
		}
	}
	if !dec.Record || req.External || (m.cfg.SRTP != "required" && !dec.Policy.RequireSRTP) {
		return nil
	}
	for i, t := range req.Tracks {
		if t.SRTP == nil {
			by := "the gateway (media.srtp: required)"
			if dec.Policy.RequireSRTP {
				by = "policy " + dec.Policy.ID + " (requireSrtp)"
			}
			if r, ok := m.obs.(RefusalObserver); ok {
				r.Refused(RefusedSRTPRequired).Inc()
			}
			return fmt.Errorf("%w: track %d (%s) is plain RTP and %s records only SRTP", ErrSRTPRequired, i, t.Label, by)
		}
	}
	return nil
}

// ErrNotSRTP: a rekey names a track that is not keyed for SRTP.
var ErrNotSRTP = errors.New("media: track does not take SRTP")

// RekeySRTP keys the SRTP track labelled label with crypto (the sender's
// new a=crypto value, from a SIPREC re-INVITE). Packets under the old key
// that are still on their way are accepted until the first one under the
// new key arrives.
func (s *Session) RekeySRTP(label, crypto string) error {
	for _, t := range s.tracks {
		if t.label != label {
			continue
		}
		old := t.srtp.Load()
		if old == nil {
			return fmt.Errorf("%w: %s", ErrNotSRTP, label)
		}
		k, err := newTrackSRTP(&TrackSRTP{Crypto: crypto})
		if err != nil {
			return err
		}
		k.prevRTP, k.scratch = old.rtp, make([]byte, 0, maxPacket)
		old.rtcpMu.Lock()
		k.prevRTCP = old.rtcp
		old.rtcpMu.Unlock()
		t.srtp.Store(k)
		return nil
	}
	return fmt.Errorf("%w: no track %s", ErrNotSRTP, label)
}
