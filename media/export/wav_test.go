package export

import (
	"bytes"
	"encoding/binary"
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
)

// wavFile is a WAV file parsed back independently of the writer.
type wavFile struct {
	format, channels, blockAlign, bits uint16
	rate, byteRate, riffSize, dataSize uint32
	frames                             [][]int16 // per channel
}

func parseWAV(t *testing.T, b []byte) wavFile {
	t.Helper()
	le := binary.LittleEndian
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" ||
		string(b[12:16]) != "fmt " || string(b[36:40]) != "data" {
		t.Fatalf("not a canonical WAV header: % x", b[:min(len(b), 44)])
	}
	w := wavFile{
		riffSize: le.Uint32(b[4:]), format: le.Uint16(b[20:]), channels: le.Uint16(b[22:]),
		rate: le.Uint32(b[24:]), byteRate: le.Uint32(b[28:]), blockAlign: le.Uint16(b[32:]),
		bits: le.Uint16(b[34:]), dataSize: le.Uint32(b[40:]),
	}
	if fmtSize := le.Uint32(b[16:]); fmtSize != 16 {
		t.Fatalf("fmt chunk size %d", fmtSize)
	}
	if int(w.riffSize) != len(b)-8 || int(w.dataSize) != len(b)-44 {
		t.Fatalf("sizes: riff %d data %d, file %d bytes", w.riffSize, w.dataSize, len(b))
	}
	data := b[44:]
	w.frames = make([][]int16, w.channels)
	for i := 0; i+1 < len(data); i += 2 {
		c := (i / 2) % int(w.channels)
		w.frames[c] = append(w.frames[c], int16(le.Uint16(data[i:])))
	}
	return w
}

func TestWriteWAV(t *testing.T) {
	s := stream{ssrc: 1, seq: 1, ts: 1, start: int64(250 * time.Millisecond)}
	tl := build(t, []Track{pcmuTrack}, s.packets(t, 0, 50))
	var buf bytes.Buffer
	if err := WriteWAV(&buf, tl, "caller"); err != nil {
		t.Fatal(err)
	}
	w := parseWAV(t, buf.Bytes())
	want := wavFile{format: 1, channels: 1, blockAlign: 2, bits: 16, rate: 8000, byteRate: 16000,
		riffSize: 36 + 16000, dataSize: 16000}
	got := w
	got.frames = nil
	if !reflectEqual(got, want) {
		t.Fatalf("header\n got %+v\nwant %+v", got, want)
	}
	// Mono starts at the track's first sample: no leading offset.
	comparePCM(t, w.frames[0], expectPCM(0, 0, 50))
}

func reflectEqual(a, b wavFile) bool {
	return a.format == b.format && a.channels == b.channels && a.blockAlign == b.blockAlign &&
		a.bits == b.bits && a.rate == b.rate && a.byteRate == b.byteRate &&
		a.riffSize == b.riffSize && a.dataSize == b.dataSize
}

func TestWriteWAVStereo(t *testing.T) {
	agentTrack := Track{Label: "agent", Kind: "audio", Codec: "PCMU", ClockRate: 8000}
	caller := func(start int64, from, to int) []Record {
		return stream{ssrc: 1, seq: 100, ts: 100, start: start}.packets(t, from, to)
	}
	agent := func(start int64, from, to int) []Record {
		return stream{ssrc: 2, seq: 9, ts: 77, start: start, track: 1, offset: 1000}.packets(t, from, to)
	}
	ms := func(n int) int64 { return int64(n) * int64(time.Millisecond) }
	tests := []struct {
		name        string
		recs        []Record
		left, right []int16
	}{
		{
			name:  "agent starts 300 ms after the caller",
			recs:  slices.Concat(caller(ms(100), 0, 30), agent(ms(400), 0, 30)),
			left:  cat(expectPCM(0, 0, 30), zeros(2400)),
			right: cat(zeros(2400), expectPCM(1000, 0, 30)),
		},
		{
			name:  "caller starts 60 ms after the agent and ends first",
			recs:  slices.Concat(agent(ms(0), 0, 40), caller(ms(60), 0, 10)),
			left:  cat(zeros(480), expectPCM(0, 0, 10), zeros(6400-480-1600)),
			right: expectPCM(1000, 0, 40),
		},
		{
			name:  "silent agent",
			recs:  caller(ms(500), 0, 10),
			left:  expectPCM(0, 0, 10),
			right: zeros(1600),
		},
		{
			name:  "agent lost a span: alignment after it holds",
			recs:  slices.Concat(caller(ms(0), 0, 20), agent(ms(20), 0, 5), agent(ms(20), 10, 19)),
			left:  expectPCM(0, 0, 20),
			right: cat(zeros(160), expectPCM(1000, 0, 5), zeros(800), expectPCM(1000, 10, 19)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := build(t, []Track{pcmuTrack, agentTrack}, tt.recs)
			var buf bytes.Buffer
			if err := WriteWAVStereo(&buf, tl, "caller", "agent"); err != nil {
				t.Fatal(err)
			}
			w := parseWAV(t, buf.Bytes())
			if w.channels != 2 || w.blockAlign != 4 || w.byteRate != 32000 || w.rate != 8000 {
				t.Fatalf("header %+v", w)
			}
			comparePCM(t, w.frames[0], tt.left)
			comparePCM(t, w.frames[1], tt.right)
		})
	}
}

func TestWriteWAVErrors(t *testing.T) {
	tracks := []Track{
		pcmuTrack,
		{Label: "wideband", Kind: "audio", Codec: "PCMU", ClockRate: 16000},
		{Label: "opus", Kind: "audio", Codec: "opus", ClockRate: 48000, PayloadType: 111},
		{Label: "video", Kind: "video", Codec: "VP8", ClockRate: 90000, PayloadType: 96},
	}
	tl := build(t, tracks, nil)
	tests := []struct {
		name  string
		write func() error
		want  error
	}{
		{"unknown label", func() error { return WriteWAV(&bytes.Buffer{}, tl, "nobody") }, ErrNoTrack},
		{"opus has no PCM", func() error { return WriteWAV(&bytes.Buffer{}, tl, "opus") }, ErrNotDecodable},
		{"video has no PCM", func() error { return WriteWAV(&bytes.Buffer{}, tl, "video") }, ErrNotDecodable},
		{"stereo rate mismatch", func() error { return WriteWAVStereo(&bytes.Buffer{}, tl, "caller", "wideband") }, ErrRateMismatch},
		{"stereo unknown right", func() error { return WriteWAVStereo(&bytes.Buffer{}, tl, "caller", "agent") }, ErrNoTrack},
		{"writer fails", func() error { return WriteWAV(failWriter{}, tl, "caller") }, errDiskFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.write(); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

var errDiskFull = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

// tool finds an external program, running the project's install script
// for it (scripts/install-<pkg>.sh) when it is missing.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "install-"+pkg+".sh")
	if out, err := exec.Command("bash", script).CombinedOutput(); err != nil {
		t.Fatalf("%s missing and %s failed: %v\n%s", name, script, err, out)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s still missing after %s", name, script)
	}
	return p
}

// TestFFprobeReadsWAV checks the files with an independent reader: ffprobe
// must see 16-bit PCM at 8 kHz of the true duration (a lost span and a pause
// included), and ffmpeg must decode exactly our samples. (The file holds a
// synthetic test signal only; ffprobe reports no duration for a pipe.)
func TestFFprobeReadsWAV(t *testing.T) {
	ffprobe, ffmpeg := tool(t, "ffprobe", "ffmpeg"), tool(t, "ffmpeg", "ffmpeg")
	s := stream{ssrc: 5, seq: 65500, ts: 1<<32 - 4000}
	recs := s.packets(t, 0, 100)
	recs = append(recs, s.packets(t, 110, 150)...) // 200 ms lost
	recs = append(recs, Record{Type: RecordPause, Track: AllTracks, Arrival: 150 * ptime})
	recs = append(recs, Record{Type: RecordResume, Track: AllTracks, Arrival: 200 * ptime})
	recs = append(recs, s.packets(t, 200, 250)...) // 1 s paused
	agent := stream{ssrc: 6, seq: 1, ts: 1, start: 10 * ptime, track: 1, offset: 3}
	recs = append(recs, agent.packets(t, 0, 240)...)
	tl := build(t, []Track{pcmuTrack, {Label: "agent", Kind: "audio", Codec: "PCMU", ClockRate: 8000}}, recs)

	tests := []struct {
		name     string
		write    func(*bytes.Buffer) error
		channels int
		duration string
		pcm      []int16 // interleaved
	}{
		{"mono", func(b *bytes.Buffer) error { return WriteWAV(b, tl, "caller") }, 1, "5.000000", tl.Tracks[0].PCM},
		{"stereo", func(b *bytes.Buffer) error { return WriteWAVStereo(b, tl, "caller", "agent") }, 2, "5.000000", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.write(&buf); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "synthetic.wav")
			if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(ffprobe, "-v", "error", "-show_streams", "-show_format", "-of", "json", path).Output()
			if err != nil {
				t.Fatalf("ffprobe: %v", err)
			}
			var probe struct {
				Streams []struct {
					CodecName  string `json:"codec_name"`
					SampleRate string `json:"sample_rate"`
					Channels   int    `json:"channels"`
					Duration   string `json:"duration"`
				} `json:"streams"`
				Format struct {
					FormatName string `json:"format_name"`
				} `json:"format"`
			}
			if err := json.Unmarshal(out, &probe); err != nil {
				t.Fatalf("ffprobe output: %v\n%s", err, out)
			}
			if len(probe.Streams) != 1 {
				t.Fatalf("ffprobe: %d streams\n%s", len(probe.Streams), out)
			}
			st := probe.Streams[0]
			if probe.Format.FormatName != "wav" || st.CodecName != "pcm_s16le" || st.SampleRate != "8000" ||
				st.Channels != tt.channels || st.Duration != tt.duration {
				t.Fatalf("ffprobe sees %+v format %q", st, probe.Format.FormatName)
			}
			// ffmpeg decodes to exactly the samples in the file.
			raw, err := exec.Command(ffmpeg, "-v", "error", "-i", path, "-f", "s16le", "-c:a", "pcm_s16le", "pipe:1").Output()
			if err != nil {
				t.Fatalf("ffmpeg: %v", err)
			}
			if !bytes.Equal(raw, buf.Bytes()[44:]) {
				t.Fatalf("ffmpeg decoded %d bytes that differ from the %d written", len(raw), buf.Len()-44)
			}
			if tt.pcm != nil {
				le := binary.LittleEndian
				for i, v := range tt.pcm {
					if int16(le.Uint16(raw[2*i:])) != v {
						t.Fatalf("sample %d: ffmpeg %d, ours %d", i, int16(le.Uint16(raw[2*i:])), v)
					}
				}
			}
			if d, _ := strconv.ParseFloat(st.Duration, 64); d < 4.9 || d > 5.1 {
				t.Fatalf("duration %v", d)
			}
		})
	}
}
