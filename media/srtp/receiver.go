package srtp

import (
	"bytes"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	pion "github.com/pion/srtp/v3"
	"github.com/pion/transport/v5/replaydetector"
)

// DefaultWindow is the replay window in packets when the sender names
// none (RFC 3711 §3.3.2 asks for at least 64; jittery SBC forks reorder
// more than that). 256 packets are 5 s of 20 ms audio, later than any
// packet worth recording; the window is read and shifted on every packet,
// so a wider one costs each packet more memory traffic for nothing.
const DefaultWindow = 256

// Index limits of the replay detectors: a 48-bit SRTP index (ROC and
// sequence number) and a 31-bit SRTCP index (RFC 3711 §3.4).
const (
	maxSRTPIndex  = 1<<48 - 1
	maxSRTCPIndex = 1<<31 - 1
)

// Verdict is the outcome of one packet.
type Verdict uint8

// Verdicts of Receiver.RTP and Receiver.RTCP.
const (
	OK        Verdict = iota
	Auth              // tag did not verify (wrong key, tampered) or unknown MKI
	Replay            // index already seen or behind the window
	Malformed         // too short or not parseable as (S)RTP/SRTCP
)

// Drops counts packets the receiver refused, per reason.
type Drops struct {
	Auth, Replay, Malformed atomic.Int64
}

// Receiver decrypts the SRTP and SRTCP of one track. It is used by the one
// goroutine that reads the track's sockets (the replay flags below are not
// shared), and keeps the rollover counter of each SSRC so the index stays
// right across sequence-number wrap (RFC 3711 §3.3.1).
type Receiver struct {
	suite Suite
	ctx   *pion.Context
	// cm receives the AES-CM suites' SRTP without pion (aescm.go). For
	// those suites (without MKIs) lazy keeps the key until cm and ctx
	// (for SRTCP) are made, at their first packet.
	cm    *aesCM
	lazy  *Crypto
	Drops Drops
	// replayed is set by the replay detectors when they refuse an index:
	// pion's duplicate error is unexported, so the detector tells.
	replayed bool
}

// flagging wraps a replay detector to report refusals to its Receiver.
type flagging struct {
	replaydetector.ReplayDetector
	r *Receiver
}

func (f flagging) Check(seq uint64) (func() bool, bool) {
	accept, ok := f.ReplayDetector.Check(seq)
	if !ok {
		f.r.replayed = true
	}
	return accept, ok
}

// NewReceiver keys a receiver with c and, for senders using MKIs, the other
// keys more (an MKI selects the key per packet, RFC 3711 §3.1).
func NewReceiver(c Crypto, more ...Crypto) (*Receiver, error) { return newReceiver(c, more, true) }

// newReceiver is NewReceiver; fast false keeps the AES-CM suites on pion
// (the tests' reference).
func newReceiver(c Crypto, more []Crypto, fast bool) (*Receiver, error) {
	if _, ok := profiles[c.Suite]; !ok {
		return nil, cryptoErr("suite not supported (want one of %v)", Suites)
	}
	kl, sl := c.Suite.keyLens()
	if len(c.Key) <= kl {
		return nil, cryptoErr("key too short for %s", c.Suite)
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	r := &Receiver{suite: c.Suite}
	if fast && (c.Suite == AESCM128SHA1_80 || c.Suite == AESCM128SHA1_32) && len(c.MKI) == 0 && len(more) == 0 {
		if len(c.Key) != kl+sl {
			return nil, cryptoErr("key of %s is %d bytes, want %d", c.Suite, len(c.Key), kl+sl)
		}
		// Each transform is made when its first packet comes: a track
		// keeps one receiver for SRTP and one for SRTCP, and each needs
		// only its own.
		r.lazy = &Crypto{Suite: c.Suite, Key: bytes.Clone(c.Key), Window: c.Window}
		return r, nil
	}
	var err error
	r.ctx, err = r.newContext(c, more)
	return r, err
}

// newContext makes pion's context for c (and MKI keys more).
func (r *Receiver) newContext(c Crypto, more []Crypto) (*pion.Context, error) {
	kl, _ := c.Suite.keyLens()
	w := c.Window
	opts := []pion.ContextOption{
		pion.SRTPReplayDetectorFactory(func() replaydetector.ReplayDetector {
			return flagging{replaydetector.New(w, maxSRTPIndex), r}
		}),
		pion.SRTCPReplayDetectorFactory(func() replaydetector.ReplayDetector {
			return flagging{replaydetector.New(w, maxSRTCPIndex), r}
		}),
	}
	if len(c.MKI) > 0 {
		opts = append(opts, pion.MasterKeyIndicator(c.MKI))
	}
	ctx, err := pion.CreateContext(c.Key[:kl], c.Key[kl:], profiles[c.Suite], opts...)
	if err != nil {
		// pion's errors name lengths and profiles, never key bytes.
		return nil, fmt.Errorf("srtp: %s context: %w", c.Suite, err)
	}
	for _, m := range more {
		if m.Suite != c.Suite || len(m.Key) != len(c.Key) {
			return nil, cryptoErr("MKI keys of different suites")
		}
		if err := ctx.AddCipherForMKI(m.MKI, m.Key[:kl], m.Key[kl:]); err != nil {
			return nil, fmt.Errorf("srtp: MKI key: %w", err)
		}
	}
	return ctx, nil
}

// Suite is the suite the receiver decrypts.
func (r *Receiver) Suite() Suite { return r.suite }

// RTP authenticates and decrypts one SRTP packet into dst (which may be
// pkt's own storage: pion decrypts in place when they alias) and returns
// the RTP packet. hdr is the caller's scratch header.
func (r *Receiver) RTP(dst, pkt []byte, hdr *rtp.Header) ([]byte, Verdict) {
	if r.lazy != nil {
		if r.cm == nil {
			kl, _ := r.suite.keyLens()
			var err error
			if r.cm, err = newAESCM(r.suite, r.lazy.Key[:kl], r.lazy.Key[kl:], r.lazy.Window); err != nil {
				r.count(Malformed) // lengths were checked: cannot happen
				return nil, Malformed
			}
		}
		out, v := r.cm.rtp(dst, pkt, hdr)
		if v != OK {
			r.count(v)
		}
		return out, v
	}
	r.replayed = false
	out, err := r.ctx.DecryptRTP(dst, pkt, hdr)
	if err == nil {
		return out, OK
	}
	return nil, r.drop(err)
}

// RTCP authenticates and decrypts one SRTCP compound packet into dst.
func (r *Receiver) RTCP(dst, pkt []byte) ([]byte, Verdict) {
	if r.ctx == nil {
		ctx, err := r.newContext(*r.lazy, nil)
		if err != nil {
			r.count(Malformed) // lengths were checked: cannot happen
			return nil, Malformed
		}
		r.ctx = ctx
	}
	r.replayed = false
	var hdr rtcp.Header
	out, err := r.ctx.DecryptRTCP(dst, pkt, &hdr)
	if err == nil {
		return out, OK
	}
	return nil, r.drop(err)
}

// drop counts a packet pion refused by its reason.
func (r *Receiver) drop(err error) Verdict {
	v := Malformed
	switch {
	case r.replayed:
		v = Replay
	case errors.Is(err, pion.ErrFailedToVerifyAuthTag), errors.Is(err, pion.ErrMKINotFound):
		v = Auth
	}
	r.count(v)
	return v
}

// count counts a refused packet.
func (r *Receiver) count(v Verdict) {
	switch v {
	case Replay:
		r.Drops.Replay.Add(1)
	case Auth:
		r.Drops.Auth.Add(1)
	default:
		r.Drops.Malformed.Add(1)
	}
}

// roc is the rollover counter of ssrc's SRTP as the receiver tracks it.
func (r *Receiver) roc(ssrc uint32) (uint32, bool) {
	if r.cm == nil {
		if r.ctx == nil {
			return 0, false
		}
		return r.ctx.ROC(ssrc)
	}
	s, ok := r.cm.senders[ssrc]
	if !ok {
		return 0, false
	}
	return uint32(s.index >> 16), true
}
