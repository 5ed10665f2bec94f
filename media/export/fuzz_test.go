package export

import (
	"bytes"
	"encoding/binary"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// fuzzRecords turns fuzzer bytes into records. Each record takes 6 bytes:
//
//	op    bits 0-1 kind (0,1 synthetic RTP, 2 raw bytes, 3 pause/resume/event),
//	      bits 2-3 track (3 = AllTracks for pause/resume/event), bits 4-7
//	      SSRC, payload type and marker choices
//	dt    arrival step in ms (0xFF: jump back 1 s, which the builder must survive)
//	dseq  int8 sequence step, dts int16 timestamp step, n payload length
//
// Synthetic packets keep per-track counters so the fuzzer explores
// realistic streams with reordering, loss, wraparound and SSRC changes.
func fuzzRecords(data []byte) []Record {
	var recs []Record
	var arrival int64
	seq := map[uint8]uint16{}
	ts := map[uint8]uint32{}
	for len(data) >= 6 {
		op, dt, dseq := data[0], data[1], int8(data[2])
		dts := int16(binary.BigEndian.Uint16(data[3:]))
		n := int(data[5])
		data = data[6:]
		if dt == 0xFF {
			arrival -= int64(time.Second)
		} else {
			arrival += int64(dt) * int64(time.Millisecond)
		}
		track := (op >> 2) & 3
		if track == 3 && op&3 == 3 {
			track = AllTracks
		}
		r := Record{Track: track, Arrival: arrival, Type: RecordPacket}
		switch op & 3 {
		case 0, 1:
			seq[track] += uint16(dseq)
			ts[track] += uint32(int32(dts))
			pt := uint8(0)
			if op&0x40 != 0 {
				pt = 101
			}
			p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq[track],
				Timestamp: ts[track], SSRC: uint32(op>>4) & 1, Marker: op&0x80 != 0}, Payload: make([]byte, n)}
			r.Data, _ = p.Marshal()
		case 2:
			r.Data = data[:min(n, len(data))]
		case 3:
			r.Type = RecordType(2 + n%3)
		}
		recs = append(recs, r)
	}
	return recs
}

func FuzzTimeline(f *testing.F) {
	seed := func(steps ...[6]byte) []byte {
		var b []byte
		for _, s := range steps {
			b = append(b, s[:]...)
		}
		return b
	}
	in := [6]byte{0, 20, 1, 0, 160, 160}
	f.Add(seed(in, in, in, in))
	f.Add(seed(in, [6]byte{0, 20, 3, 1, 224, 160}, [6]byte{0, 20, 0xFE, 0xFD, 0x40, 160}, in))   // reorder
	f.Add(seed(in, [6]byte{3, 5, 0, 0, 0, 0}, in, [6]byte{3, 200, 0, 0, 0, 1}, in))              // pause/resume
	f.Add(seed(in, [6]byte{0x10, 20, 0x40, 0x12, 0x34, 160}, in, [6]byte{2, 1, 0, 0, 0, 3}, in)) // SSRC change, raw
	f.Add(seed([6]byte{4, 0, 1, 0, 160, 160}, in, [6]byte{0x40, 20, 1, 0, 0, 4}, [6]byte{4, 0xFF, 1, 0, 160, 160}))
	tracks := []Track{
		pcmuTrack,
		{Label: "agent", Kind: "audio", Codec: "PCMA", ClockRate: 8000, PayloadType: 0},
		{Label: "video", Kind: "video", Codec: "VP8", ClockRate: 90000, PayloadType: 0},
		{Label: "opus", Kind: "audio", Codec: "opus", ClockRate: 48000, PayloadType: 0},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		recs := fuzzRecords(data)
		h := Header{Tracks: tracks}
		tl, err := Build(h, &SliceSource{Records: recs}, Options{MaxDuration: 10 * time.Minute})
		if err != nil {
			return // only ErrTooLong is possible; the unit tests pin it
		}
		for _, tr := range tl.Tracks {
			s := tr.Summary
			if got := s.Media + s.NonMedia + s.Duplicates + s.Malformed + s.DroppedPaused; got != s.Packets {
				t.Fatalf("%s: %d packets but %d accounted for: %+v", s.Label, s.Packets, got, s)
			}
			if tr.PCM != nil && int64(len(tr.PCM)) != tr.Length {
				t.Fatalf("%s: PCM %d samples, length %d", s.Label, len(tr.PCM), tr.Length)
			}
			if len(tr.Frames) != s.Media || s.Lost < 0 || s.Duration < 0 || s.Offset < 0 || s.Paused < 0 {
				t.Fatalf("%s: %d frames, summary %+v", s.Label, len(tr.Frames), s)
			}
			for _, fr := range tr.Frames {
				if fr.Pos < 0 || fr.Pos > tr.Length {
					t.Fatalf("%s: frame at %d outside [0, %d]", s.Label, fr.Pos, tr.Length)
				}
			}
		}
		if err := WriteWAVStereo(io.Discard, tl, "caller", "agent"); err != nil {
			t.Fatal(err)
		}
		// The streamed WAV is the timeline's PCM, overlaps included.
		for _, label := range []string{"caller", "agent"} {
			var buf bytes.Buffer
			if err := WriteWAV(&buf, tl, label); err != nil {
				t.Fatal(err)
			}
			tr, _ := tl.Track(label)
			if got := pcmOf(buf.Bytes()); !slices.Equal(got, tr.PCM) && len(tr.PCM)+len(got) > 0 {
				t.Fatalf("%s: streamed WAV differs from the timeline's PCM (%d vs %d samples)", label, len(got), len(tr.PCM))
			}
		}
		if _, err := WriteIVF(io.Discard, tl, "video"); err != nil {
			t.Fatal(err)
		}
		if _, err := WriteOggOpus(io.Discard, tl, "opus"); err != nil {
			t.Fatal(err)
		}
		if _, err := WritePCAP(io.Discard, h, &SliceSource{Records: recs}, PCAPOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}
