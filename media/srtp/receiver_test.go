package srtp

import (
	"bytes"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	pion "github.com/pion/srtp/v3"
)

// sender is a pion encrypting context keyed like c: the far end.
func sender(t *testing.T, c Crypto) *pion.Context {
	t.Helper()
	ctx, err := NewSender(c)
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

func packet(t *testing.T, seq uint16, payload []byte) []byte {
	t.Helper()
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 0x1234}, Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func encrypt(t *testing.T, tx *pion.Context, seq uint16, payload []byte) []byte {
	t.Helper()
	out, err := tx.EncryptRTP(nil, packet(t, seq, payload), nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReceiverSuites round-trips every suite, across a sequence-number
// wrap (the ROC must advance, RFC 3711 §3.3.1), and SRTCP.
func TestReceiverSuites(t *testing.T) {
	for _, s := range Suites {
		t.Run(string(s), func(t *testing.T) {
			c, err := Generate(1, s)
			if err != nil {
				t.Fatal(err)
			}
			tx := sender(t, c)
			rx, err := NewReceiver(c)
			if err != nil {
				t.Fatal(err)
			}
			var hdr rtp.Header
			seq := uint16(65530)
			for i := 0; i < 12; i++ { // 65530 … 65535, 0 … 5
				want := bytes.Repeat([]byte{byte(i)}, 160)
				out, v := rx.RTP(nil, encrypt(t, tx, seq, want), &hdr)
				if v != OK {
					t.Fatalf("seq %d: verdict %d", seq, v)
				}
				if !bytes.Equal(out[12:], want) || hdr.SequenceNumber != seq {
					t.Fatalf("seq %d: wrong plaintext", seq)
				}
				seq++
			}
			if roc, ok := rx.roc(0x1234); !ok || roc != 1 {
				t.Fatalf("ROC %d %v after the wrap, want 1", roc, ok)
			}
			sr, _ := (&rtcp.SenderReport{SSRC: 0x1234, NTPTime: 42}).Marshal()
			enc, err := tx.EncryptRTCP(nil, sr, nil)
			if err != nil {
				t.Fatal(err)
			}
			out, v := rx.RTCP(nil, enc)
			if v != OK || !bytes.Equal(out, sr) {
				t.Fatalf("SRTCP: verdict %d", v)
			}
			if _, v := rx.RTCP(nil, enc); v != Replay {
				t.Fatalf("replayed SRTCP: verdict %d, want Replay", v)
			}
		})
	}
}

// TestReceiverDrops: the attacker on the media path replays, tampers,
// truncates or sends with another key; each is a counted drop.
func TestReceiverDrops(t *testing.T) {
	for _, s := range Suites {
		t.Run(string(s), func(t *testing.T) {
			c, _ := Generate(1, s)
			tx := sender(t, c)
			rx, err := NewReceiver(c)
			if err != nil {
				t.Fatal(err)
			}
			var hdr rtp.Header
			first := encrypt(t, tx, 100, make([]byte, 160))
			if _, v := rx.RTP(nil, append([]byte(nil), first...), &hdr); v != OK {
				t.Fatalf("first: %d", v)
			}
			if _, v := rx.RTP(nil, append([]byte(nil), first...), &hdr); v != Replay {
				t.Fatalf("replay: verdict %d", v)
			}
			tampered := encrypt(t, tx, 101, make([]byte, 160))
			tampered[len(tampered)-1] ^= 1 // the tag (AES-CM) or the GCM tag
			if _, v := rx.RTP(nil, tampered, &hdr); v != Auth {
				t.Fatalf("tampered tag: verdict %d", v)
			}
			body := encrypt(t, tx, 102, make([]byte, 160))
			body[20] ^= 0x80 // a ciphertext bit
			if _, v := rx.RTP(nil, body, &hdr); v != Auth {
				t.Fatalf("tampered payload: verdict %d", v)
			}
			other, _ := Generate(1, s)
			if _, v := rx.RTP(nil, encrypt(t, sender(t, other), 103, make([]byte, 160)), &hdr); v != Auth {
				t.Fatalf("wrong key: verdict %d", v)
			}
			if _, v := rx.RTP(nil, first[:8], &hdr); v != Malformed {
				t.Fatalf("short: verdict %d", v)
			}
			// A refused packet must not consume its index: the genuine
			// 101 still passes after the forged one.
			if _, v := rx.RTP(nil, encrypt(t, tx, 104, make([]byte, 160)), &hdr); v != OK {
				t.Fatalf("after drops: verdict %d", v)
			}
			if a, r, m := rx.Drops.Auth.Load(), rx.Drops.Replay.Load(), rx.Drops.Malformed.Load(); a != 3 || r != 1 || m != 1 {
				t.Fatalf("drops auth %d replay %d malformed %d, want 3 1 1", a, r, m)
			}
		})
	}
}

// TestReceiverMKI: two keys told apart by their MKI; an unknown MKI is an
// authentication drop.
func TestReceiverMKI(t *testing.T) {
	c, more, err := ParseCrypto("1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(30, 1) + "|2^31|1:4;inline:" + b64(30, 2) + "|2^31|2:4")
	if err != nil || len(more) != 1 {
		t.Fatalf("parse: %v %d", err, len(more))
	}
	rx, err := NewReceiver(c, more...)
	if err != nil {
		t.Fatal(err)
	}
	var hdr rtp.Header
	for i, k := range []Crypto{c, more[0]} {
		if _, v := rx.RTP(nil, encrypt(t, sender(t, k), uint16(10+i), make([]byte, 20)), &hdr); v != OK {
			t.Fatalf("key %d: verdict %d", i, v)
		}
	}
	unknown := c
	unknown.MKI = []byte{0, 0, 0, 9}
	if _, v := rx.RTP(nil, encrypt(t, sender(t, unknown), 20, make([]byte, 20)), &hdr); v != Auth {
		t.Fatalf("unknown MKI: verdict %d", v)
	}
}

// TestPlainRTPRefused: an unprotected packet sent to an SRTP track does
// not pass as media.
func TestPlainRTPRefused(t *testing.T) {
	c, _ := Generate(1, AESCM128SHA1_80)
	rx, _ := NewReceiver(c)
	var hdr rtp.Header
	if _, v := rx.RTP(nil, packet(t, 1, make([]byte, 160)), &hdr); v == OK {
		t.Fatal("plain RTP accepted")
	}
}
