package srtp

import (
	"testing"

	"github.com/pion/rtp"
)

// BenchmarkReceiverRTP is the gateway's per-packet cost of SRTP on a
// PCMU track: authenticate and decrypt one 172-byte packet in place. The
// pion run is the baseline of the AES-CM transform (aescm.go).
func BenchmarkReceiverRTP(b *testing.B) {
	for _, run := range []struct {
		suite Suite
		pion  bool
	}{{AESCM128SHA1_80, false}, {AESCM128SHA1_80, true}, {AEADAES128GCM, true}} {
		suite := run.suite
		name := string(suite)
		if run.pion {
			name += "/pion"
		}
		b.Run(name, func(b *testing.B) {
			c, err := Generate(1, suite)
			if err != nil {
				b.Fatal(err)
			}
			tx, err := NewSender(c)
			if err != nil {
				b.Fatal(err)
			}
			p := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 1}, Payload: make([]byte, 160)}
			pkts := make([][]byte, 1<<14)
			for i := range pkts {
				p.SequenceNumber, p.Timestamp = uint16(i), uint32(i)*160
				raw, _ := p.Marshal()
				if pkts[i], err = tx.EncryptRTP(nil, raw, nil); err != nil {
					b.Fatal(err)
				}
			}
			var rx *Receiver
			var hdr rtp.Header
			buf := make([]byte, 1500)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if i%len(pkts) == 0 { // a fresh receiver per lap: each index once
					b.StopTimer()
					if rx, err = newReceiver(c, nil, !run.pion); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				n := copy(buf, pkts[i%len(pkts)])
				if _, v := rx.RTP(buf[:n], buf[:n], &hdr); v != OK {
					b.Fatalf("packet %d: verdict %d", i, v)
				}
			}
		})
	}
}
