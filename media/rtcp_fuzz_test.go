package media

import (
	"reflect"
	"testing"

	"github.com/pion/rtcp"
)

// isBye reports whether a compound RTCP packet holds a BYE, as the track's
// RTCP path decides whether the peer ended the call.
func isBye(pkts []rtcp.Packet) bool {
	for _, p := range pkts {
		if _, ok := p.(*rtcp.Goodbye); ok {
			return true
		}
	}
	return false
}

// FuzzRTCP feeds arbitrary datagrams to the RTCP parser the track's RTCP
// path uses (pion/rtcp Unmarshal). It must not panic; whatever it accepts
// must marshal again and parse back to the same packets, so that what the
// gateway reads from a datagram (a BYE above all: it ends the session) is
// the only reading of it.
func FuzzRTCP(f *testing.F) {
	for _, c := range [][]rtcp.Packet{
		{&rtcp.Goodbye{Sources: []uint32{0x1234}, Reason: "bye"}},
		{&rtcp.SenderReport{SSRC: 1, NTPTime: 2, RTPTime: 3, PacketCount: 4, OctetCount: 5,
			Reports: []rtcp.ReceptionReport{{SSRC: 9, FractionLost: 1, TotalLost: 2, LastSequenceNumber: 3, Jitter: 4}}},
			&rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 1, Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "caller@host"}}}}},
			&rtcp.Goodbye{Sources: []uint32{1}}},
		{&rtcp.ReceiverReport{SSRC: 7}},
		{&rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: 2}},
	} {
		b, err := rtcp.Marshal(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x81, 203, 0, 1, 0, 0, 0, 1})
	f.Add([]byte{0x80, 200, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		pkts, err := rtcp.Unmarshal(b)
		if err != nil {
			return
		}
		out, err := rtcp.Marshal(pkts)
		if err != nil {
			t.Fatalf("accepted packets do not marshal: %v (%#v)", err, pkts)
		}
		again, err := rtcp.Unmarshal(out)
		if err != nil {
			t.Fatalf("re-marshalled packets do not parse: %v\n in  %x\n out %x", err, b, out)
		}
		if isBye(pkts) != isBye(again) {
			t.Fatalf("BYE read one way from %x and the other from its re-encoding %x", b, out)
		}
		if !reflect.DeepEqual(pkts, again) {
			t.Fatalf("round trip changed the packets:\n %#v\n %#v", pkts, again)
		}
	})
}
