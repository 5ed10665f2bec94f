package media

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// FuzzDTMFRedaction pushes arbitrary datagrams through a track of a
// redactDtmf session — the path of RFC 4733 telephone-events — and reads
// the sealed recording back: no telephone-event packet (payload type 101)
// ever reaches it, each one is counted as redacted, every other valid
// packet is recorded byte for byte, and the only events are the constant
// marker, at most one per telephone-event packet.
func FuzzDTMFRedaction(f *testing.F) {
	digit := dtmfEvent(f, DefaultDTMFPayloadType, 7, 800, 5)
	audio := pkt(f, 0, 1, 160, bytes.Repeat([]byte{0xff}, 160))
	f.Add(digit[0], digit[3], audio)
	f.Add(audio, digit[1], digit[5])
	f.Add(pkt(f, DefaultDTMFPayloadType, 1, 0, nil), pkt(f, DefaultDTMFPayloadType|0x80, 2, 0, []byte{1, 2, 3, 4}), []byte{0x80})
	f.Add(append(pkt(f, DefaultDTMFPayloadType, 3, 9, []byte{9, 0x8a, 0, 160}), 0, 0, 0, 4), []byte{}, audio) // padding bit off, trailing bytes
	tm := newTestManager(f, recordPolicy(true), func(c *Config, _ *Deps) { c.FlushInterval = 10 * time.Millisecond })
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		if len(a) > 1500 || len(b) > 1500 || len(c) > 1500 {
			return // larger than any datagram of a call
		}
		s, err := tm.Create(context.Background(), Request{CallID: "fuzz", Direction: policy.DirectionInbound, External: true,
			Tracks: []TrackSpec{{Label: "caller", Kind: "audio"}}})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now()
		var dtmf int
		want := map[string]int{} // non-DTMF packets that must be recorded
		for i, p := range [][]byte{a, b, c} {
			p = bytes.Clone(p)
			s.Push(0, at.Add(time.Duration(i)*20*time.Millisecond), p)
			if !validRTP(new(rtp.Header), p) {
				continue
			}
			if p[1]&0x7f == DefaultDTMFPayloadType {
				dtmf++
			} else {
				want[string(p)]++
			}
		}
		sum, err := tm.End(context.Background(), s.ID, "fuzz")
		if err != nil {
			t.Fatalf("end: %v", err)
		}
		if sum.Counters.DTMFRedacted != int64(dtmf) {
			t.Fatalf("DTMFRedacted = %d, pushed %d telephone-events", sum.Counters.DTMFRedacted, dtmf)
		}
		marks := 0
		for _, r := range tm.records(t, s) {
			switch r.Type {
			case seal.RecordPacket:
				if r.Data[1]&0x7f == DefaultDTMFPayloadType {
					t.Fatalf("a telephone-event reached the recording: % x", r.Data)
				}
				want[string(r.Data)]--
			case seal.RecordEvent:
				if !bytes.Equal(r.Data, DTMFMarker) {
					t.Fatalf("event %q is not the redaction marker", r.Data)
				}
				marks++
			}
		}
		if marks > dtmf || (dtmf > 0 && marks == 0) {
			t.Fatalf("%d markers for %d telephone-events", marks, dtmf)
		}
		for p, n := range want {
			if n != 0 {
				t.Fatalf("packet % x recorded %d times too few", p, n)
			}
		}
	})
}
