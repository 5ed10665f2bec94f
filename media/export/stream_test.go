package export

import (
	"encoding/binary"
	"io"
	"runtime"
	"testing"
	"time"
)

// pcmOf returns the samples of a mono 16-bit WAV file.
func pcmOf(b []byte) []int16 {
	if len(b) < wavHeaderSize {
		return nil
	}
	var out []int16
	for i := wavHeaderSize; i+1 < len(b); i += 2 {
		out = append(out, int16(binary.LittleEndian.Uint16(b[i:])))
	}
	return out
}

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// g711Frame is 20 ms of PCMU at 8 kHz.
var g711Frame = func() []byte {
	b := make([]byte, 160)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}()

// streamWAV writes a stereo WAV of d fed frame by frame, as playback's
// feed does, without any timeline in memory.
func streamWAV(t *testing.T, d time.Duration) {
	n := int64(d / (20 * time.Millisecond))
	h := Header{Tracks: []Track{pcmuTrack, {Label: "agent", Kind: "audio", Codec: "PCMU", ClockRate: 8000}}}
	ww, err := NewWAVWriter(io.Discard, h, []WAVChannel{{Track: 0, Length: n * 160}, {Track: 1, Delay: 24, Length: n * 160}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		for tr := range uint8(2) {
			if err := ww.WritePacket(Packet{Track: tr, Frame: Frame{Pos: i * 160, Ticks: 160, Payload: g711Frame}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := ww.Close(); err != nil {
		t.Fatal(err)
	}
}

// streamPCAP captures d of a two-track call record by record.
func streamPCAP(t *testing.T, d time.Duration) {
	n := int(d / (20 * time.Millisecond))
	h := Header{Start: time.Unix(1e9, 0), Tracks: []Track{pcmuTrack, {Label: "agent", Kind: "audio", Codec: "PCMU", ClockRate: 8000}}}
	pw, err := NewPCAPWriter(io.Discard, h, PCAPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, 12+160)
	pkt[0] = 0x80
	for i := range n {
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		for tr := range uint8(2) {
			if err := pw.Add(Record{Type: RecordPacket, Track: tr, Arrival: int64(i) * int64(20*time.Millisecond), Data: pkt}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if got := pw.Stats().Packets; got != 2*n {
		t.Fatalf("%d packets written, want %d", got, 2*n)
	}
}

// streamOgg writes d of an Opus track frame by frame.
func streamOgg(t *testing.T, d time.Duration) {
	n := int64(d / (20 * time.Millisecond))
	h := Header{Tracks: []Track{{Label: "opus", Kind: "audio", Codec: "opus", ClockRate: 48000, PayloadType: 111}}}
	ow, err := NewOggOpusWriter(io.Discard, h, 0, n*960)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if i%50 == 7 {
			continue // a lost packet: silence
		}
		if err := ow.WritePacket(Packet{Frame: Frame{Pos: i * 960, Ticks: 960, Payload: opusSilence20ms}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ow.Close(); err != nil {
		t.Fatal(err)
	}
	if st := ow.Stats(); st.Samples != n*960 {
		t.Fatalf("%d samples written, want %d", st.Samples, n*960)
	}
}

// vp8Key is a 2-packet VP8 keyframe (RFC 7741 descriptor, frame tag with
// the start code and a 320x240 picture), vp8Inter one inter frame.
var (
	vp8Key1  = []byte{0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, 1, 2, 3}
	vp8Key2  = []byte{0x00, 4, 5, 6, 7}
	vp8Inter = []byte{0x10, 0x01, 0x00, 0x00, 8, 9, 10}
)

// streamIVF writes d of a VP8 track at 25 frames a second, a keyframe
// a second.
func streamIVF(t *testing.T, d time.Duration) {
	n := int64(d / (40 * time.Millisecond))
	h := Header{Tracks: []Track{{Label: "video", Kind: "video", Codec: "VP8", ClockRate: 90000, PayloadType: 96}}}
	iw, err := NewIVFWriter(io.Discard, h, 0, n*3600)
	if err != nil {
		t.Fatal(err)
	}
	seq := int64(0)
	put := func(i int64, payload []byte, marker bool) {
		seq++
		f := Frame{Pos: i * 3600, SSRC: 1, Seq: seq, Timestamp: uint32(i * 3600), Marker: marker, Payload: payload}
		if err := iw.WritePacket(Packet{Frame: f}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if i%25 == 0 {
			put(i, vp8Key1, false)
			put(i, vp8Key2, true)
		} else {
			put(i, vp8Inter, true)
		}
	}
	if err := iw.Close(); err != nil {
		t.Fatal(err)
	}
	if st := iw.Stats(); int64(st.Frames) != n || st.Dropped != 0 || st.Width != 320 {
		t.Fatalf("IVF stats %+v, want %d frames", st, n)
	}
}

// TestWritersStreamInConstantMemory: a WAV, PCAP, Ogg or IVF writer allocates the
// same for a call ten times as long (header, buffers, one window): it
// keeps nothing of the packets it has written out.
func TestWritersStreamInConstantMemory(t *testing.T) {
	for name, write := range map[string]func(*testing.T, time.Duration){"wav": streamWAV, "pcap": streamPCAP, "ogg": streamOgg, "ivf": streamIVF} {
		t.Run(name, func(t *testing.T) {
			write(t, time.Second) // warm up
			short := allocated(func() { write(t, time.Minute) })
			long := allocated(func() { write(t, 10*time.Minute) })
			t.Logf("1 min: %d bytes allocated, 10 min: %d", short, long)
			// A writer that held the media would allocate at least the
			// extra nine minutes of it (8.6 MB of PCMU for two tracks).
			if long > short+64<<10 {
				t.Fatalf("allocations grow with the recording: %d bytes for 1 min, %d for 10 min", short, long)
			}
		})
	}
}

// TestWAVWriterRefusesOutOfOrder: a frame before what was written out is
// an error, not a silent misplacement.
func TestWAVWriterRefusesOutOfOrder(t *testing.T) {
	ww, err := NewWAVWriter(io.Discard, Header{Tracks: []Track{pcmuTrack}}, []WAVChannel{{Length: 8000}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ww.WritePacket(Packet{Frame: Frame{Pos: 4000, Payload: g711Frame}}); err != nil {
		t.Fatal(err)
	}
	if err := ww.WritePacket(Packet{Frame: Frame{Pos: 160, Payload: g711Frame}}); err == nil {
		t.Fatal("a frame before the written point was accepted")
	}
}
