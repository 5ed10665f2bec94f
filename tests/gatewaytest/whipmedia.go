package gatewaytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
)

// generated media, made once per test binary run.
var (
	genMu    sync.Mutex
	genCache = map[string][][]byte{}
)

// FFmpegOpusPackets encodes seconds of a 440 Hz tone with libopus in 20 ms
// frames and returns the Opus packets (the Ogg headers removed).
func FFmpegOpusPackets(t testing.TB, seconds int) [][]byte {
	t.Helper()
	key := fmt.Sprint("opus", seconds)
	genMu.Lock()
	defer genMu.Unlock()
	if p, ok := genCache[key]; ok {
		return p
	}
	out := filepath.Join(t.TempDir(), "tone.ogg")
	cmd := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi",
		"-i", fmt.Sprintf("sine=frequency=440:sample_rate=48000:duration=%d", seconds),
		"-ac", "1", "-c:a", "libopus", "-b:a", "32k", "-frame_duration", "20", "-application", "audio", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg opus: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	pkts := oggPackets(t, b)
	if len(pkts) < 3 {
		t.Fatalf("ogg: %d packets", len(pkts))
	}
	genCache[key] = pkts[2:] // OpusHead, OpusTags
	return genCache[key]
}

// oggPackets splits an Ogg stream into packets (RFC 3533 lacing).
func oggPackets(t testing.TB, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	var cur []byte
	for off := 0; off < len(b); {
		if len(b) < off+27 || string(b[off:off+4]) != "OggS" {
			t.Fatalf("ogg: no page at %d", off)
		}
		n := int(b[off+26])
		lacing := b[off+27 : off+27+n]
		data := off + 27 + n
		for _, l := range lacing {
			cur = append(cur, b[data:data+int(l)]...)
			data += int(l)
			if l < 255 {
				out = append(out, cur)
				cur = nil
			}
		}
		off = data
	}
	return out
}

// FFmpegVP8Frames encodes seconds of a 320x240 test pattern at fps with
// libvpx (a key frame every second) and returns the frames.
func FFmpegVP8Frames(t testing.TB, seconds, fps int) [][]byte {
	t.Helper()
	key := fmt.Sprint("vp8", seconds, fps)
	genMu.Lock()
	defer genMu.Unlock()
	if p, ok := genCache[key]; ok {
		return p
	}
	out := filepath.Join(t.TempDir(), "pattern.ivf")
	cmd := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi",
		"-i", fmt.Sprintf("testsrc=size=320x240:rate=%d:duration=%d", fps, seconds),
		"-c:v", "libvpx", "-g", strconv.Itoa(fps), "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg vp8: %v\n%s", err, b)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		fr, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, fr)
	}
	genCache[key] = frames
	return frames
}

// probed is what ffprobe says about a file's first stream.
type probed struct {
	Codec    string
	Duration float64
	Frames   int // decoded frames (ffprobe -count_frames)
	Width    int
}

// FFprobeStream reads stream 0 of the given type ("a" or "v"), decoding it
// fully to count frames.
func FFprobeStream(t testing.TB, path, typ string) probed {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", typ+":0",
		"-show_entries", "stream=codec_name,duration,nb_read_frames,width:format=duration", "-of", "json", path).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("ffprobe %s: %v\n%s", path, err, ee.Stderr)
		}
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var v struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
			Duration  string `json:"duration"`
			Frames    string `json:"nb_read_frames"`
			Width     int    `json:"width"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &v); err != nil || len(v.Streams) == 0 {
		t.Fatalf("ffprobe %s: %v: %s", path, err, out)
	}
	s := v.Streams[0]
	p := probed{Codec: s.CodecName, Width: s.Width}
	p.Frames, _ = strconv.Atoi(s.Frames)
	d := s.Duration
	if d == "" || d == "N/A" {
		d = v.Format.Duration
	}
	p.Duration, _ = strconv.ParseFloat(d, 64)
	return p
}

// FFprobeMediaEnd returns the end time of the last packet of stream 0 of
// type typ (pts + duration): the media's length as a player sees it,
// independent of a container header's duration field.
func FFprobeMediaEnd(t testing.TB, path, typ string) float64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", typ+":0",
		"-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe packets %s: %v", path, err)
	}
	end := 0.0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, ",")
		pts, _ := strconv.ParseFloat(f[0], 64)
		d := 0.0
		if len(f) > 1 {
			d, _ = strconv.ParseFloat(f[1], 64)
		}
		end = max(end, pts+d)
	}
	return end
}

// FFmpegDecodes fully decodes a file and fails on any decoder error.
func FFmpegDecodes(t testing.TB, path string) {
	t.Helper()
	// -enc_time_base keeps the null muxer at the input's clock: with its
	// guessed frame rate, two WebRTC frames closer than one frame apart
	// would collide on one output timestamp and log a muxer (not decoder)
	// error.
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", path, "-enc_time_base", "1/90000", "-f", "null", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg cannot decode %s cleanly: %v\n%s", path, err, stderr.String())
	}
}

// WriteTemp writes b to a file in a test temp dir.
func WriteTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
