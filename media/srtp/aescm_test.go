package srtp

import (
	"bytes"
	"crypto/aes"
	"encoding/hex"
	"testing"

	"github.com/pion/rtp"
)

// The key derivation of RFC 3711 Appendix B.3: the session keys the
// AES-CM transform derives from the test master key and salt.
func TestDeriveRFC3711Vectors(t *testing.T) {
	h := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	masterKey, masterSalt := h("E1F97A0D3E018BE0D64FA32C06DE4139"), h("0EC675AD498AFEEBB6960B3AABE6")
	c, err := newAESCM(AESCM128SHA1_80, masterKey, masterSalt, DefaultWindow)
	if err != nil {
		t.Fatal(err)
	}
	if want := h("30CBBC08863D8C85D49DB34A9AE1"); !bytes.Equal(c.salt[:], want) {
		t.Fatalf("session salt %X, want %X", c.salt, want)
	}
	master, _ := aes.NewCipher(masterKey)
	if got, want := derive(master, masterSalt, labelEncryption, 16), h("C61E7A93744F39EE10734AFE3FF7A087"); !bytes.Equal(got, want) {
		t.Fatalf("session key %X, want %X", got, want)
	}
	if got, want := derive(master, masterSalt, labelAuth, 20), h("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"); !bytes.Equal(got, want) {
		t.Fatalf("auth key %X, want %X", got, want)
	}
}

// rtpVariant builds an RTP packet from fuzz bytes: CSRCs, a header
// extension and padding as SBCs send them.
func rtpVariant(ssrc uint32, seq uint16, arg byte) []byte {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: ssrc},
		Payload: bytes.Repeat([]byte{arg}, int(arg%200)+1)}
	if arg&8 != 0 { // video-sized: the keystream is made in several chunks
		p.Payload = bytes.Repeat(p.Payload, 6)
	}
	if arg&1 != 0 {
		p.CSRC = []uint32{1, 2}
	}
	if arg&2 != 0 {
		_ = p.SetExtension(1, []byte{arg, arg})
	}
	if arg&4 != 0 {
		p.Padding, p.PaddingSize = true, arg%7+1
	}
	b, _ := p.Marshal()
	return b
}

// FuzzAESCMMatchesPion: for any sequence of packets a pion sender sends
// (sequence jumps and wraps, reordering, duplicates, new SSRCs, tampered
// bytes, truncation), the AES-CM receive transform gives the same verdict
// and the same plaintext as pion's own receiver.
func FuzzAESCMMatchesPion(f *testing.F) {
	f.Add([]byte{0, 1, 0, 200, 1, 3, 3, 9, 0, 255, 0, 255, 4, 17, 5, 3, 2, 7, 0, 1})
	f.Add([]byte{0, 250, 0, 250, 0, 250, 0, 250, 1, 10, 6, 0, 3, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 400 {
			return
		}
		for _, suite := range []Suite{AESCM128SHA1_80, AESCM128SHA1_32} {
			c := Crypto{Tag: 1, Suite: suite, Key: bytes.Repeat([]byte{0x5a}, 30)}
			tx, err := NewSender(c)
			if err != nil {
				t.Fatal(err)
			}
			fast, err1 := NewReceiver(c)
			slow, err2 := newReceiver(c, nil, false) // pion's transform
			if err1 != nil || err2 != nil || fast.lazy == nil || slow.lazy != nil {
				t.Fatal(err1, err2)
			}
			seq, ssrc := uint16(65000), uint32(0x1234)
			var last []byte
			for i := 0; i+1 < len(ops); i += 2 {
				op, arg := ops[i]%7, ops[i+1]
				var pkt []byte
				switch op {
				case 0: // forward, possibly far enough to wrap
					seq += uint16(arg)*64 + 1
				case 1: // a late packet
					seq -= uint16(arg % 100)
				case 2: // another sender
					ssrc ^= uint32(arg) + 1
				case 3: // the previous packet again
					pkt = last
				}
				if pkt == nil {
					if pkt, err = tx.EncryptRTP(nil, rtpVariant(ssrc, seq, arg), nil); err != nil {
						continue
					}
					last = pkt
				}
				pkt = bytes.Clone(pkt)
				switch op {
				case 4:
					pkt[int(arg)%len(pkt)] ^= 1 << (arg % 8)
				case 5:
					pkt = pkt[:int(arg)%len(pkt)]
				}
				var h1, h2 rtp.Header
				a, va := fast.RTP(nil, bytes.Clone(pkt), &h1)
				b, vb := slow.RTP(nil, bytes.Clone(pkt), &h2)
				if va != vb || !bytes.Equal(a, b) {
					t.Fatalf("%s op %d arg %d seq %d: verdict %d vs pion %d, plaintext equal %v", suite, op, arg, seq, va, vb, bytes.Equal(a, b))
				}
			}
			if fast.Drops.Auth.Load() != slow.Drops.Auth.Load() || fast.Drops.Replay.Load() != slow.Drops.Replay.Load() ||
				fast.Drops.Malformed.Load() != slow.Drops.Malformed.Load() {
				t.Fatalf("%s: drops differ", suite)
			}
		}
	})
}
