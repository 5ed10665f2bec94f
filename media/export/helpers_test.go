package export

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/mediaseal/mediaseal/media/codec"
)

const (
	ptime   = int64(20 * time.Millisecond)
	samples = 160 // 20 ms at 8 kHz
)

var pcmuTrack = Track{Label: "caller", Kind: "audio", Codec: "PCMU", ClockRate: 8000, PayloadType: 0}

// payloadFor gives packet i a distinct, non-silent μ-law payload, so that
// any misplaced or missing packet shows in the decoded PCM.
func payloadFor(i int) []byte {
	p := make([]byte, samples)
	for j := range p {
		v := byte(i*7 + j*3)
		if v == 0xFF || v == 0x7F { // the two codes that decode to 0
			v = 0x01
		}
		p[j] = v
	}
	return p
}

func rtpBytes(t testing.TB, ssrc uint32, seq uint16, ts uint32, pt uint8, payload []byte) []byte {
	t.Helper()
	b, err := (&rtp.Packet{Header: rtp.Header{
		Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc,
	}, Payload: payload}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stream describes a regular 20 ms PCMU sender.
type stream struct {
	ssrc   uint32
	seq    uint16
	ts     uint32
	start  int64 // arrival of packet 0
	track  uint8
	offset int // payloadFor index of packet 0
}

// packet returns packet i of the stream as a record arriving on time.
func (s stream) packet(t testing.TB, i int) Record {
	return Record{
		Type: RecordPacket, Track: s.track, Arrival: s.start + int64(i)*ptime,
		Data: rtpBytes(t, s.ssrc, s.seq+uint16(i), s.ts+uint32(i*samples), 0, payloadFor(s.offset+i)),
	}
}

func (s stream) packets(t testing.TB, from, to int) []Record {
	var out []Record
	for i := from; i < to; i++ {
		out = append(out, s.packet(t, i))
	}
	return out
}

// expectPCM decodes payloads [from, to) of a stream back to back.
func expectPCM(offset, from, to int) []int16 {
	var out []int16
	for i := from; i < to; i++ {
		out = codec.DecodeULaw(out, payloadFor(offset+i))
	}
	return out
}

func build(t testing.TB, tracks []Track, recs []Record) *Timeline {
	t.Helper()
	tl, err := Build(Header{Start: time.Unix(1700000000, 0), Tracks: tracks}, &SliceSource{Records: recs}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

func comparePCM(t *testing.T, got, want []int16) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("PCM length %d, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("PCM differs first at sample %d (packet %d): got %d want %d", i, i/samples, got[i], want[i])
		}
	}
}
