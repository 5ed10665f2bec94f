package export

import (
	"bytes"
	"io"
	"testing"
)

// fuzzH264Frames turns fuzzer bytes into a track's packets. Each packet is
// a flags byte, a length byte and that many payload bytes. Flags: bit 0
// marker, bit 1 next timestamp (+3000), bits 2-3 sequence step (+1, +2
// (one lost), +0, -1), bit 4 another SSRC.
func fuzzH264Frames(data []byte) []Frame {
	var fs []Frame
	var seq, pos int64
	ssrc := uint32(1)
	for len(data) >= 2 {
		flags, n := data[0], int(data[1])
		data = data[2:]
		n = min(n, len(data))
		if flags&0x02 != 0 {
			pos += 3000
		}
		seq += [4]int64{1, 2, 0, -1}[flags>>2&3]
		if flags&0x10 != 0 {
			ssrc++
		}
		fs = append(fs, Frame{Pos: pos, Ticks: 3000, SSRC: ssrc, Seq: seq, Timestamp: uint32(pos),
			Marker: flags&1 != 0, Payload: data[:n]})
		data = data[n:]
	}
	return fs
}

// fuzzH264Bytes encodes packets in fuzzH264Frames' format (seeds).
func fuzzH264Bytes(ps []pkt) []byte {
	var b []byte
	last := 0
	for _, p := range ps {
		flags := byte(0)
		if p.marker {
			flags |= 1
		}
		if p.frame != last {
			flags |= 2
			last = p.frame
		}
		b = append(b, flags, byte(len(p.payload)))
		b = append(b, p.payload...)
	}
	return b
}

// FuzzH264Depacketize: whatever the packets, reassembly neither panics nor
// emits anything a decoder would choke on at the NAL level: every access
// unit has NAL units with a clear forbidden bit, the first one written is
// an IDR, every IDR comes with its parameter sets, and the Annex B and
// Matroska writers agree with the counts.
func FuzzH264Depacketize(f *testing.F) {
	idr := idrSlice(300, 0x11)
	p1 := pSlice(120, 0x21)
	start := pkts([]pkt{{frame: 0, payload: stapA(testSPS, testPPS)}}, frame(0, idr))
	f.Add(fuzzH264Bytes(pkts(start, frame(1, p1))))
	f.Add(fuzzH264Bytes(lose(pkts(start, frame(1, p1), frame(2, idrSlice(50, 1))), 2)))
	f.Add(fuzzH264Bytes([]pkt{{frame: 0, payload: stapA(testSPSHigh, testPPS, idrSlice(40, 3)), marker: true}}))
	f.Add([]byte{0x01, 0x03, 0x7c, 0xc5, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		fs := fuzzH264Frames(data)
		var st H264Stats
		aus := assembleH264(fs, &st)
		if st.Frames != len(aus) {
			t.Fatalf("%d frames counted, %d written", st.Frames, len(aus))
		}
		keys := 0
		for i, au := range aus {
			if len(au.nalus) == 0 {
				t.Fatalf("access unit %d is empty", i)
			}
			var sps, pps bool
			for _, n := range au.nalus {
				if len(n) == 0 || n[0]&0x80 != 0 {
					t.Fatalf("access unit %d: NAL unit % x", i, n)
				}
				sps = sps || n[0]&0x1F == nalSPS
				pps = pps || n[0]&0x1F == nalPPS
			}
			if au.key {
				keys++
				if !sps || !pps {
					t.Fatalf("IDR access unit %d without parameter sets", i)
				}
			}
			if i == 0 && !au.key {
				t.Fatalf("first access unit is not an IDR")
			}
		}
		if keys != st.Keyframes {
			t.Fatalf("%d IDR counted, %d written", st.Keyframes, keys)
		}
		tl := &Timeline{Tracks: []TrackTimeline{{Track: h264Track, Frames: fs, Length: int64(len(fs)) * 3000}}}
		var annexB bytes.Buffer
		hst, err := WriteH264(&annexB, tl, "video")
		if err != nil || hst != st {
			t.Fatalf("WriteH264: %+v %v, want %+v", hst, err, st)
		}
		mst, err := WriteMKV(io.Discard, tl, "video")
		if err == nil && (mst.Tracks[0].Frames != st.Frames || mst.Tracks[0].Dropped != st.Dropped) {
			t.Fatalf("WriteMKV: %+v, want %+v", mst.Tracks[0], st)
		}
	})
}
