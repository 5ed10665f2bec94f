package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

var opusTrack = Track{Label: "caller", Kind: "audio", Codec: "opus", ClockRate: 48000, PayloadType: 111}

// h264Source encodes n frames of a 25 fps 320x240 test pattern with
// libx264 (constrained baseline as WebRTC sends it, an IDR every 10
// frames, parameter sets before each) and returns each access unit's NAL
// units.
func h264Source(t *testing.T, n int) [][][]byte {
	t.Helper()
	ffmpeg := tool(t, "ffmpeg", "ffmpeg")
	out, err := exec.Command(ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
		"-frames:v", strconv.Itoa(n), "-pix_fmt", "yuv420p", "-c:v", "libx264", "-profile:v", "baseline",
		"-bf", "0", "-g", "10", "-keyint_min", "10", "-sc_threshold", "0", "-slices", "2",
		"-bsf:v", "h264_mp4toannexb", "-f", "h264", "pipe:1").Output()
	if err != nil {
		t.Fatalf("ffmpeg h264 encode: %v", err)
	}
	var aus [][][]byte
	var cur [][]byte
	for _, nal := range splitAnnexB(out) {
		typ := nal[0] & 0x1F
		// A new access unit starts at an AUD, SEI or parameter set after a
		// slice, or at a slice whose first_mb_in_slice is 0.
		if startsAU := typ == 9 || typ == 6 || typ == nalSPS || typ == nalPPS ||
			((typ == nalSlice || typ == nalIDR) && nal[1]&0x80 != 0); startsAU && hasSlice(cur) {
			aus, cur = append(aus, cur), nil
		}
		cur = append(cur, nal)
	}
	aus = append(aus, cur)
	if len(aus) != n {
		t.Fatalf("split %d access units, want %d", len(aus), n)
	}
	return aus
}

func hasSlice(nalus [][]byte) bool {
	for _, n := range nalus {
		if typ := n[0] & 0x1F; typ == nalSlice || typ == nalIDR {
			return true
		}
	}
	return false
}

// splitAnnexB returns the NAL units of an Annex B stream.
func splitAnnexB(b []byte) [][]byte {
	var out [][]byte
	for {
		i := bytes.Index(b, []byte{0, 0, 1})
		if i < 0 {
			return out
		}
		b = b[i+3:]
		j := bytes.Index(b, []byte{0, 0, 1})
		if j < 0 {
			return append(out, b)
		}
		out = append(out, bytes.TrimRight(b[:j], "\x00"))
		b = b[j:]
	}
}

// h264Packets packetizes access units with pion's H264Payloader (STAP-A
// for the parameter sets, FU-A for large slices) at 25 fps; frame k
// arrives at offset + 40k ms. skip says which frames are never sent.
func h264Packets(t *testing.T, aus [][][]byte, track uint8, offset time.Duration, skip func(k int) bool) []Record {
	t.Helper()
	p := rtp.NewPacketizer(1200, 102, 0x2644, &codecs.H264Payloader{}, rtp.NewFixedSequencer(65000), 90000)
	var recs []Record
	for k, au := range aus {
		var annexB []byte
		for _, n := range au {
			annexB = append(append(annexB, 0, 0, 0, 1), n...)
		}
		for i, pk := range p.Packetize(annexB, 3600) {
			b, err := pk.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if skip == nil || !skip(k) {
				recs = append(recs, Record{Type: RecordPacket, Track: track,
					Arrival: int64(offset) + int64(k)*int64(40*time.Millisecond) + int64(i)*int64(time.Microsecond), Data: b})
			}
		}
	}
	return recs
}

// opusRecords sends 20 ms Opus packets from offset, leaving out the
// packets [lostFrom, lostTo).
func opusRecords(t *testing.T, pkts [][]byte, track uint8, offset time.Duration, lostFrom, lostTo int) []Record {
	var recs []Record
	for i, p := range pkts {
		if i >= lostFrom && i < lostTo {
			continue
		}
		b := rtpBytes(t, 0x0915, uint16(40000+i), uint32(7777+960*i), 111, p)
		recs = append(recs, Record{Type: RecordPacket, Track: track, Arrival: int64(offset) + int64(i)*int64(20*time.Millisecond), Data: b})
	}
	return recs
}

func byArrival(recs ...[]Record) []Record {
	all := slices.Concat(recs...)
	slices.SortStableFunc(all, func(a, b Record) int { return int(a.Arrival - b.Arrival) })
	return all
}

// mkvProbe is what ffprobe reads from a Matroska file.
type mkvProbe struct {
	duration float64
	streams  map[string]mkvStream // by codec name
}

type mkvStream struct {
	frames        int
	start         float64
	width, height int
}

func probeMatroska(t *testing.T, path string) mkvProbe {
	t.Helper()
	ffprobe := tool(t, "ffprobe", "ffmpeg")
	out, err := exec.Command(ffprobe, "-v", "error", "-count_frames", "-show_entries",
		"stream=codec_name,nb_read_frames,start_time,width,height:format=duration,format_name", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var v struct {
		Streams []struct {
			Codec  string `json:"codec_name"`
			Frames string `json:"nb_read_frames"`
			Start  string `json:"start_time"`
			Width  int    `json:"width"`
			Height int    `json:"height"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	p := mkvProbe{streams: map[string]mkvStream{}}
	p.duration, _ = strconv.ParseFloat(v.Format.Duration, 64)
	for _, s := range v.Streams {
		var ms mkvStream
		ms.frames, _ = strconv.Atoi(s.Frames)
		ms.start, _ = strconv.ParseFloat(s.Start, 64)
		ms.width, ms.height = s.Width, s.Height
		p.streams[s.Codec] = ms
	}
	return p
}

// decodesCleanly runs every stream of a file through ffmpeg's decoders.
func decodesCleanly(t *testing.T, path string) {
	t.Helper()
	ffmpeg := tool(t, "ffmpeg", "ffmpeg")
	out, err := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-xerror", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("ffmpeg cannot decode %s cleanly: %v\n%s", filepath.Base(path), err, out)
	}
}

func within(got, want, tol float64) bool { return got >= want-tol && got <= want+tol }

// TestWriteWebM: VP8 from 0 s and Opus from 0.5 s with 300 ms lost: ffprobe
// sees both codecs, every frame, the audio starting 0.5 s in, and the
// full duration; ffmpeg decodes the file without an error.
func TestWriteWebM(t *testing.T) {
	src := vp8Source(t) // 50 frames, 2 s
	opus := opusPackets(t, 2)
	video, _ := packetizeVP8(t, src, true)
	tracks := []Track{{Label: "video", Kind: "video", Codec: "VP8", ClockRate: 90000, PayloadType: 96}, opusTrack}
	tl := build(t, tracks, byArrival(video, opusRecords(t, opus, 1, 500*time.Millisecond, 40, 55)))
	var buf bytes.Buffer
	st, err := WriteWebM(&buf, tl, "video", "caller")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "call.webm")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	p := probeMatroska(t, path)
	v, a := p.streams["vp8"], p.streams["opus"]
	wantDur := 0.5 + float64(len(opus))*0.020 // audio ends last
	if len(p.streams) != 2 || v.frames != len(src) || v.width != 160 || !within(p.duration, wantDur, 0.05) ||
		!within(a.start-v.start, 0.5, 0.005) {
		t.Fatalf("ffprobe %+v; want vp8 %d frames 160 px, opus 0.5 s after video, %.3f s", p, len(src), wantDur)
	}
	// The lost 300 ms are 15 silence packets, so audio ends on time.
	if st.Tracks[1].Silence != 15 || st.Tracks[1].Frames != len(opus) || st.Tracks[0].Frames != len(src) ||
		st.Tracks[0].Keyframes != 5 || !within(st.Duration.Seconds(), wantDur, 0.001) {
		t.Fatalf("stats %+v", st)
	}
	if want := len(opus) * 960; a.frames != len(opus) {
		t.Fatalf("decoded %d Opus frames, want %d (%d samples)", a.frames, len(opus), want)
	}
	decodesCleanly(t, path)
	t.Logf("webm: %.3f s (want %.3f), vp8 %+v, opus %+v; stats %+v", p.duration, wantDur, v, a, st)

	var again bytes.Buffer
	if _, err := WriteWebM(&again, tl, "video", "caller"); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Fatalf("a second export differs (%v)", err)
	}
}

// TestWriteMKVH264: H.264 (two slices a picture) with one frame lost in
// the middle and Opus: the lost frame's successors are dropped until the
// next IDR, the rest decodes cleanly and keeps its timing.
func TestWriteMKVH264(t *testing.T) {
	aus := h264Source(t, 50)
	opus := opusPackets(t, 2)
	video := h264Packets(t, aus, 0, 0, func(k int) bool { return k == 23 })
	tl := build(t, []Track{h264Track, opusTrack}, byArrival(video, opusRecords(t, opus, 1, 0, -1, -1)))
	var buf bytes.Buffer
	st, err := WriteMKV(&buf, tl, "video", "caller")
	if err != nil {
		t.Fatal(err)
	}
	// Frames 23..29 are lost or reference a lost one; 30 is an IDR.
	if st.Tracks[0].Frames != 43 || st.Tracks[0].Dropped != 6 || st.Tracks[0].Keyframes != 5 || st.Tracks[0].Width != 320 {
		t.Fatalf("stats %+v", st.Tracks[0])
	}
	path := filepath.Join(t.TempDir(), "call.mkv")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	p := probeMatroska(t, path)
	h := p.streams["h264"]
	if h.frames != 43 || h.width != 320 || h.height != 240 || p.streams["opus"].frames != len(opus) || !within(p.duration, 2.0, 0.05) {
		t.Fatalf("ffprobe %+v", p)
	}
	decodesCleanly(t, path)
	t.Logf("mkv: %.3f s, %+v; stats %+v", p.duration, p.streams, st)

	// The same track as Annex B: every frame decodes.
	buf.Reset()
	hst, err := WriteH264(&buf, tl, "video")
	if err != nil || hst.Frames != 43 {
		t.Fatalf("%+v %v", hst, err)
	}
	path = filepath.Join(t.TempDir(), "video.h264")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := probeMatroska(t, path).streams["h264"]; got.frames != 43 {
		t.Fatalf("Annex B: ffprobe %+v", got)
	}
	decodesCleanly(t, path)
}

// TestWriteMKVPCM: H.264 with G.711 audio (a SIP video call) as
// Matroska: the audio is 16-bit PCM with a lost span as silence, so it
// lasts as long as the call.
func TestWriteMKVPCM(t *testing.T) {
	aus := h264Source(t, 50)
	s := stream{track: 1, ssrc: 9, seq: 65000, start: int64(100 * time.Millisecond)}
	audio := append(s.packets(t, 0, 50), s.packets(t, 60, 100)...) // 200 ms lost
	tl := build(t, []Track{h264Track, pcmuTrack}, byArrival(h264Packets(t, aus, 0, 0, nil), audio))
	labels, err := MatroskaTracks(tl, false, "")
	if err != nil || !slices.Equal(labels, []string{"video", "caller"}) {
		t.Fatalf("tracks %q %v", labels, err)
	}
	var buf bytes.Buffer
	st, err := WriteMKV(&buf, tl, labels...)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sip.mkv")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	p := probeMatroska(t, path)
	pcm, h := p.streams["pcm_s16le"], p.streams["h264"]
	if h.frames != 50 || !within(pcm.start, 0.1, 0.002) || !within(p.duration, 2.1, 0.01) || st.Tracks[1].Frames != 100 {
		t.Fatalf("ffprobe %+v, stats %+v", p, st)
	}
	decodesCleanly(t, path)
	ffmpeg := tool(t, "ffmpeg", "ffmpeg")
	out, err := exec.Command(ffmpeg, "-v", "error", "-i", path, "-map", "0:a", "-f", "s16le", "pipe:1").Output()
	if err != nil || !slices.Equal(bytesToPCM(out), tl.Tracks[1].PCM) {
		t.Fatalf("decoded audio differs from the timeline (%d bytes, %v)", len(out), err)
	}
}

func bytesToPCM(b []byte) []int16 {
	out := make([]int16, len(b)/2)
	for i := range out {
		out[i] = int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
	}
	return out
}

func TestMatroskaTracks(t *testing.T) {
	vp8 := Track{Label: "cam", Kind: "video", Codec: "VP8", ClockRate: 90000, PayloadType: 96}
	agent := opusTrack
	agent.Label = "agent"
	tests := []struct {
		name   string
		tracks []Track
		webm   bool
		video  string
		want   []string
		err    error
	}{
		{"WebM: VP8 and the Opus tracks", []Track{pcmuTrack, vp8, agent}, true, "", []string{"cam", "agent"}, nil},
		{"Matroska: PCM too", []Track{pcmuTrack, vp8, agent}, false, "", []string{"cam", "caller", "agent"}, nil},
		{"Matroska: H.264", []Track{h264Track, vp8, agent}, false, "", []string{"video", "agent"}, nil},
		{"WebM: the first VP8 track", []Track{h264Track, vp8, agent}, true, "", []string{"cam", "agent"}, nil},
		{"video chosen", []Track{h264Track, vp8, agent}, false, "cam", []string{"cam", "agent"}, nil},
		{"WebM: no silent audio-only file of an H.264 call", []Track{h264Track, agent}, true, "", nil, ErrCodec},
		{"no such video track", []Track{vp8, agent}, true, "agent", nil, ErrNoTrack},
		{"nothing WebM carries", []Track{pcmuTrack}, true, "", nil, ErrNoTrack},
		{"audio only", []Track{agent}, true, "", []string{"agent"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := build(t, tt.tracks, nil)
			got, err := MatroskaTracks(tl, tt.webm, tt.video)
			if !errors.Is(err, tt.err) || !slices.Equal(got, tt.want) {
				t.Fatalf("%q %v, want %q %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestWriteMatroskaErrors(t *testing.T) {
	aus := h264Source(t, 10)
	s := stream{track: 1}
	tl := build(t, []Track{h264Track, pcmuTrack}, byArrival(h264Packets(t, aus, 0, 0, nil), s.packets(t, 0, 10)))
	before := runtime.NumGoroutine()
	tests := []struct {
		name  string
		write func() error
		want  error
	}{
		{"H.264 in WebM", func() error { _, err := WriteWebM(&bytes.Buffer{}, tl, "video"); return err }, ErrCodec},
		{"PCMU in WebM", func() error { _, err := WriteWebM(&bytes.Buffer{}, tl, "caller"); return err }, ErrCodec},
		{"no such track", func() error { _, err := WriteMKV(&bytes.Buffer{}, tl, "video", "agent"); return err }, ErrNoTrack},
		{"no track", func() error { _, err := WriteMKV(&bytes.Buffer{}, tl); return err }, ErrNoTrack},
		{"write error", func() error { _, err := WriteMKV(failWriter{}, tl, "video", "caller"); return err }, errDiskFull},
		{"fine", func() error { _, err := WriteMKV(&bytes.Buffer{}, tl, "video", "caller"); return err }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.write(); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// The writer's goroutines are gone once it returns, errors included.
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i == 100 {
			t.Fatalf("%d goroutines, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
