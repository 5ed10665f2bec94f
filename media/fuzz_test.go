package media

import (
	"encoding/json"
	"testing"

	"github.com/pion/rtp"
)

// FuzzValidRTP feeds arbitrary datagrams to the per-packet validator: it
// must never panic, and whatever it accepts must be parseable RTP whose
// header and padding fit the datagram.
func FuzzValidRTP(f *testing.F) {
	good, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 1, Timestamp: 160, SSRC: 9,
		CSRC: []uint32{1, 2}}, Payload: make([]byte, 160)}).Marshal()
	ext := &rtp.Packet{Header: rtp.Header{Version: 2, Extension: true, ExtensionProfile: 0xBEDE}, Payload: []byte{1, 2, 3}}
	_ = ext.SetExtension(1, []byte{0xAA})
	withExt, _ := ext.Marshal()
	for _, seed := range [][]byte{good, withExt, {}, {0x80}, {0xA0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 5}, {0x81, 203, 0, 1, 0, 0, 0, 1}} {
		f.Add(seed)
	}
	var hdr rtp.Header
	f.Fuzz(func(t *testing.T, b []byte) {
		if !validRTP(&hdr, b) {
			return
		}
		var p rtp.Packet
		if err := p.Unmarshal(append([]byte(nil), b...)); err != nil {
			t.Fatalf("accepted a packet pion cannot parse: %v", err)
		}
		if p.Version != 2 {
			t.Fatalf("accepted version %d", p.Version)
		}
	})
}

// FuzzSessionRequest decodes and validates arbitrary session requests:
// no panic, and an accepted request has sane tracks.
func FuzzSessionRequest(f *testing.F) {
	f.Add(`{"callId":"c","queueId":"q","direction":"INBOUND","tracks":[{"label":"caller","kind":"audio"}]}`)
	f.Add(`{"callId":"c","direction":"OUTBOUND","tracks":[{"label":"v","kind":"video","codec":"H264","payloadType":200}]}`)
	f.Add(`{"tracks":[{"label":"a","kind":"audio","source":"::1"},{"label":"a","kind":"audio"}]}`)
	f.Add(`{"callId":"c","direction":"INBOUND","tracks":[{"label":"a","kind":"audio","source":"[2001:db8::1]:40000"}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		var r Request
		if json.Unmarshal([]byte(body), &r) != nil {
			return
		}
		if _, err := r.validate(false); err == nil {
			for _, tr := range r.Tracks {
				if tr.Source == "" {
					t.Fatalf("accepted track %q without a source while latching is off", tr.Label)
				}
			}
		}
		tracks, err := r.validate(true)
		if err != nil {
			return
		}
		if len(tracks) != len(r.Tracks) || len(tracks) == 0 || len(tracks) > 16 {
			t.Fatalf("accepted %d tracks for %d asked", len(tracks), len(r.Tracks))
		}
		for _, tr := range tracks {
			if tr.ClockRate == 0 || tr.PayloadType > 127 || tr.Codec == "" {
				t.Fatalf("accepted track %+v", tr)
			}
		}
	})
}
