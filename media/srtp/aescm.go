package srtp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 is what the AES_CM_128_HMAC_SHA1 suites authenticate with (RFC 3711 §4.2.1)
	"crypto/subtle"
	"encoding/binary"
	"hash"

	"github.com/pion/rtp"
	"github.com/pion/transport/v5/replaydetector"
)

// aesCM receives SRTP of the AES_CM_128_HMAC_SHA1_80 and _32 suites
// (RFC 3711 §4.1.1, §4.2.1) on Go's AES-CTR and HMAC directly. It exists
// for speed on the ingest path: pion's transform runs AES one block at a
// time through the cipher.Block interface and looks the sender up in a
// map for every packet, which made SRTP ingest cost half again as much as
// plain RTP. Everything else (SRTCP, the AEAD suites, MKIs) stays with
// pion, and the tests decrypt pion's packets with both and compare.
type aesCM struct {
	block  cipher.Block // session encryption key
	salt   [14]byte     // session salt
	mac    hash.Hash    // HMAC-SHA1 under the session authentication key
	tagLen int
	window uint
	// last is the sender of the previous packet: a track has one sender
	// at a time, so the map is read only when the SSRC changes. Like
	// pion, every authenticated sender is kept for the session: forgetting
	// one would let its old packets be replayed.
	last    *ssrcState
	senders map[uint32]*ssrcState
	sum     [sha1.Size]byte
	roc     [4]byte
	iv      [16]byte
	ks      [256]byte // keystream, a chunk of the packet at a time
}

// maxPacket bounds the packets the transform decrypts (a UDP datagram on
// an Ethernet path); anything longer is refused as malformed.
const maxPacket = 1 << 11

// ssrcState is one sender's rollover counter and replay window.
type ssrcState struct {
	ssrc    uint32
	index   uint64 // highest authenticated index (ROC<<16 | SEQ)
	started bool
	replay  replaydetector.CheckAccepter
}

// Key derivation labels (RFC 3711 §4.3.1).
const (
	labelEncryption = 0x00
	labelAuth       = 0x01
	labelSalt       = 0x02
)

func newAESCM(suite Suite, masterKey, masterSalt []byte, window uint) (*aesCM, error) {
	if len(masterKey) != 16 || len(masterSalt) != 14 {
		return nil, cryptoErr("%s needs a 16-byte key and a 14-byte salt", suite)
	}
	master, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, err
	}
	encKey := derive(master, masterSalt, labelEncryption, 16)
	authKey := derive(master, masterSalt, labelAuth, 20)
	salt := derive(master, masterSalt, labelSalt, 14)
	defer clear(encKey)
	defer clear(authKey)
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, err
	}
	c := &aesCM{block: block, mac: hmac.New(sha1.New, authKey), tagLen: 10, window: window}
	if suite == AESCM128SHA1_32 {
		c.tagLen = 4
	}
	copy(c.salt[:], salt)
	clear(salt)
	return c, nil
}

// derive is the AES-CM key derivation of RFC 3711 §4.3.1 and §4.3.3 with
// a key derivation rate of 0: the keystream of the master key from the IV
// (label at byte 7 XOR master salt) || 0x0000.
func derive(master cipher.Block, masterSalt []byte, label byte, n int) []byte {
	var iv [16]byte
	copy(iv[:], masterSalt)
	iv[7] ^= label
	out := make([]byte, n)
	cipher.NewCTR(master, iv[:]).XORKeyStream(out, out)
	return out
}

// rtp authenticates and decrypts pkt into dst (which may alias pkt),
// leaving hdr parsed. The replay check comes first (a flood of replays
// costs no HMAC) but only an authenticated packet moves the window.
func (c *aesCM) rtp(dst, pkt []byte, hdr *rtp.Header) ([]byte, Verdict) {
	hl, err := hdr.Unmarshal(pkt)
	if err != nil || len(pkt) < hl+c.tagLen || len(pkt) > maxPacket {
		return nil, Malformed
	}
	st := c.sender(hdr.SSRC)
	index := st.guess(hdr.SequenceNumber)
	tok := st.replay.CheckSeq(index)
	if !tok.Passed() {
		return nil, Replay
	}
	n := len(pkt) - c.tagLen
	binary.BigEndian.PutUint32(c.roc[:], uint32(index>>16))
	c.mac.Reset()
	c.mac.Write(pkt[:n])
	c.mac.Write(c.roc[:])
	sum := c.mac.Sum(c.sum[:0])
	if subtle.ConstantTimeCompare(sum[:c.tagLen], pkt[n:]) != 1 {
		return nil, Auth
	}
	st.replay.Accept(tok)
	st.commit(index)
	c.keep(st)

	iv := c.iv[:]
	copy(iv[:14], c.salt[:])
	iv[14], iv[15] = 0, 0
	ssrc, seq := hdr.SSRC, index
	iv[4] ^= byte(ssrc >> 24)
	iv[5] ^= byte(ssrc >> 16)
	iv[6] ^= byte(ssrc >> 8)
	iv[7] ^= byte(ssrc)
	for i := 13; i >= 8; i-- {
		iv[i] ^= byte(seq)
		seq >>= 8
	}
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	copy(dst[:hl], pkt[:hl])
	// The keystream is made block by block into the receiver's buffer:
	// cipher.NewCTR would allocate its state for every packet, and a
	// 16-bit block counter is all an SRTP packet needs (RFC 3711 §4.1.1).
	for off, blk := hl, uint16(0); off < n; off += len(c.ks) {
		end := min(off+len(c.ks), n)
		ks := c.ks[:(end-off+15)&^15]
		for i := 0; i < len(ks); i += 16 {
			binary.BigEndian.PutUint16(iv[14:], blk)
			blk++
			c.block.Encrypt(ks[i:i+16], iv)
		}
		subtle.XORBytes(dst[off:end], pkt[off:end], ks[:end-off])
	}
	return dst, OK
}

// sender returns the state of ssrc, a fresh one (not yet kept) for a
// sender not seen: only an authenticated packet adds a sender.
func (c *aesCM) sender(ssrc uint32) *ssrcState {
	if c.last != nil && c.last.ssrc == ssrc {
		return c.last
	}
	if s, ok := c.senders[ssrc]; ok {
		return s
	}
	return &ssrcState{ssrc: ssrc, replay: replaydetector.New(c.window, maxSRTPIndex).(replaydetector.CheckAccepter)}
}

// keep makes an authenticated sender the current one and remembers it.
func (c *aesCM) keep(st *ssrcState) {
	if c.last == st {
		return
	}
	c.last = st
	if c.senders == nil {
		c.senders = map[uint32]*ssrcState{}
	}
	c.senders[st.ssrc] = st
}

// guess estimates the packet's index from its sequence number and the
// highest index authenticated so far (RFC 3711 §3.3.1 and Appendix A).
func (s *ssrcState) guess(seq uint16) uint64 {
	if !s.started {
		return uint64(seq) // ROC 0: SDES starts every sender at 0
	}
	roc, sl := s.index>>16, int64(s.index&0xffff)
	v := roc
	switch d := int64(seq) - sl; {
	case d > 1<<15 && roc > 0: // a late packet from before the last wrap
		v = roc - 1
	case d < -(1 << 15): // the sequence number wrapped
		v = roc + 1
	}
	return v<<16 | uint64(seq)
}

// commit records an authenticated index.
func (s *ssrcState) commit(index uint64) {
	if !s.started || index > s.index {
		s.index, s.started = index, true
	}
}
