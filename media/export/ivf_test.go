package export

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

type ivfFrame struct {
	pts  uint64
	data []byte
}

// parseIVF reads an IVF file back: header fields and frames.
func parseIVF(t *testing.T, b []byte) (fourcc string, w, h int, den, num uint32, frames []ivfFrame) {
	t.Helper()
	le := binary.LittleEndian
	if len(b) < 32 || string(b[:4]) != "DKIF" || le.Uint16(b[6:]) != 32 {
		t.Fatalf("bad IVF header % x", b[:min(len(b), 32)])
	}
	fourcc, w, h = string(b[8:12]), int(le.Uint16(b[12:])), int(le.Uint16(b[14:]))
	den, num = le.Uint32(b[16:]), le.Uint32(b[20:])
	n := int(le.Uint32(b[24:]))
	for b = b[32:]; len(b) > 0; {
		if len(b) < 12 {
			t.Fatalf("truncated frame header")
		}
		size := int(le.Uint32(b))
		if len(b) < 12+size {
			t.Fatalf("truncated frame")
		}
		frames = append(frames, ivfFrame{pts: le.Uint64(b[4:]), data: append([]byte(nil), b[12:12+size]...)})
		b = b[12+size:]
	}
	// Bytes 24-27 hold the duration in time-base units (ffmpeg's reading;
	// all ones when ffmpeg wrote to a pipe); TestWriteIVF checks ours.
	_ = n
	return fourcc, w, h, den, num, frames
}

// vp8Source encodes a 2 s test pattern (25 fps, keyframe every 10 frames).
func vp8Source(t *testing.T) []ivfFrame {
	t.Helper()
	ffmpeg := tool(t, "ffmpeg", "ffmpeg")
	out, err := exec.Command(ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=2",
		"-c:v", "libvpx", "-g", "10", "-keyint_min", "10", "-b:v", "300k", "-f", "ivf", "pipe:1").Output()
	if err != nil {
		t.Fatalf("ffmpeg vp8 encode: %v", err)
	}
	_, _, _, _, _, frames := parseIVF(t, out)
	if len(frames) != 50 {
		t.Fatalf("ffmpeg made %d frames", len(frames))
	}
	return frames
}

// packetizeVP8 splits frames into RTP packets of at most 200 VP8 bytes
// (RFC 7741), with the 1-byte descriptor or with the extended one carrying
// a 15-bit picture ID. Frame k has RTP timestamp base+3600k and arrives at
// 40k ms.
func packetizeVP8(t *testing.T, frames []ivfFrame, extended bool) (recs []Record, perFrame [][]int) {
	seq := uint16(65500) // wraps during the call
	for k, f := range frames {
		var idx []int
		for off := 0; off < len(f.data); off += 200 {
			chunk := f.data[off:min(off+200, len(f.data))]
			var d []byte
			if extended {
				d = []byte{0x80, 0x80, 0x80 | byte(k>>8), byte(k)}
			} else {
				d = []byte{0x00}
			}
			if off == 0 {
				d[0] |= 0x10 // S: start of partition 0
			}
			pk := rtpBytes(t, 0x77, seq, 1000+uint32(3600*k), 96, append(d, chunk...))
			if off+200 >= len(f.data) {
				pk[1] |= 0x80 // marker: last packet of the frame
			}
			idx = append(idx, len(recs))
			recs = append(recs, Record{Type: RecordPacket, Arrival: int64(k)*int64(40*time.Millisecond) + int64(off/200)*int64(time.Millisecond), Data: pk})
			seq++
		}
		perFrame = append(perFrame, idx)
	}
	return recs, perFrame
}

func TestWriteIVF(t *testing.T) {
	src := vp8Source(t)
	keyAt := func(k int) bool { return src[k].data[0]&1 == 0 }
	for _, k := range []int{0, 10, 20, 30, 40} {
		if !keyAt(k) {
			t.Fatalf("source frame %d is not a keyframe", k)
		}
	}
	videoTrack := Track{Label: "screen", Kind: "video", Codec: "VP8", ClockRate: 90000, PayloadType: 96}
	tests := []struct {
		name     string
		extended bool
		mangle   func(recs []Record, perFrame [][]int) []Record
		keep     func(k int) bool // which source frames must come out
	}{
		{"in order", false, nil, func(int) bool { return true }},
		{"reordered and duplicated, extended descriptor", true, func(recs []Record, perFrame [][]int) []Record {
			out := slices.Clone(recs)
			for _, idx := range perFrame { // packets of each multi-packet frame arrive in reverse
				if len(idx) > 1 {
					slices.Reverse(out[idx[0] : idx[len(idx)-1]+1])
				}
			}
			out = append(out, recs[perFrame[7][0]], recs[perFrame[33][0]])
			for i := range out { // still spread over the 2 s the frames cover
				out[i].Arrival = int64(i) * int64(2*time.Second) / int64(len(out))
			}
			return out
		}, func(int) bool { return true }},
		{"a lost packet drops frames until the next keyframe", false, func(recs []Record, perFrame [][]int) []Record {
			return slices.Delete(slices.Clone(recs), perFrame[13][0], perFrame[13][0]+1)
		}, func(k int) bool { return k < 13 || k >= 20 }},
		{"a lost last packet (marker) is noticed", true, func(recs []Record, perFrame [][]int) []Record {
			last := perFrame[25][len(perFrame[25])-1]
			return slices.Delete(slices.Clone(recs), last, last+1)
		}, func(k int) bool { return k < 25 || k >= 30 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, perFrame := packetizeVP8(t, src, tt.extended)
			if tt.mangle != nil {
				recs = tt.mangle(recs, perFrame)
			}
			tl := build(t, []Track{videoTrack}, recs)
			var buf bytes.Buffer
			st, err := WriteIVF(&buf, tl, "screen")
			if err != nil {
				t.Fatal(err)
			}
			var want []int
			keys := 0
			for k := range src {
				if tt.keep(k) {
					want = append(want, k)
					if keyAt(k) {
						keys++
					}
				}
			}
			if st != (IVFStats{Frames: len(want), Keyframes: keys, Dropped: 50 - len(want), Width: 160, Height: 120}) {
				t.Fatalf("stats %+v, want %d frames %d keyframes", st, len(want), keys)
			}
			// The header's length field is the duration in time-base units
			// (what ffmpeg reads): the timeline's length, 50 frames of 3600.
			if n := binary.LittleEndian.Uint32(buf.Bytes()[24:]); n != 50*3600 {
				t.Fatalf("header duration %d, want %d", n, 50*3600)
			}
			fourcc, w, h, den, num, frames := parseIVF(t, buf.Bytes())
			if fourcc != "VP80" || w != 160 || h != 120 || den != 90000 || num != 1 || len(frames) != len(want) {
				t.Fatalf("header %s %dx%d %d/%d, %d frames", fourcc, w, h, num, den, len(frames))
			}
			for i, k := range want {
				if frames[i].pts != uint64(3600*k) || !bytes.Equal(frames[i].data, src[k].data) {
					t.Fatalf("frame %d: pts %d (%d bytes), want source frame %d pts %d", i, frames[i].pts, len(frames[i].data), k, 3600*k)
				}
			}
			// ffmpeg decodes every frame we wrote without complaint.
			path := filepath.Join(t.TempDir(), "synthetic.ivf")
			if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			ffprobe := tool(t, "ffprobe", "ffmpeg")
			out, err := exec.Command(ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0",
				"-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", path).CombinedOutput()
			if err != nil {
				t.Fatalf("ffprobe: %v\n%s", err, out)
			}
			if got, wantOut := strings.TrimSpace(string(out)), "vp8,160,120,"+itoa(len(want)); got != wantOut {
				t.Fatalf("ffprobe: %q, want %q", got, wantOut)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestWriteIVFErrors(t *testing.T) {
	tl := build(t, []Track{pcmuTrack}, nil)
	if _, err := WriteIVF(&bytes.Buffer{}, tl, "caller"); !errors.Is(err, ErrCodec) {
		t.Fatalf("PCMU track: err = %v, want ErrCodec", err)
	}
	if _, err := WriteIVF(&bytes.Buffer{}, tl, "nobody"); !errors.Is(err, ErrNoTrack) {
		t.Fatalf("unknown label: err = %v, want ErrNoTrack", err)
	}
}

func TestVP8Descriptor(t *testing.T) {
	tests := []struct {
		name    string
		p       []byte
		start   bool
		payload []byte
		ok      bool
	}{
		{"start, no extension", []byte{0x10, 9}, true, []byte{9}, true},
		{"continuation", []byte{0x00, 9}, false, []byte{9}, true},
		{"start of partition 1 is not a frame start", []byte{0x11, 9}, false, []byte{9}, true},
		{"7-bit picture id", []byte{0x90, 0x80, 0x05, 9}, true, []byte{9}, true},
		{"15-bit picture id, TL0PICIDX, TID", []byte{0x90, 0xE0, 0x81, 0x02, 0x03, 0x04, 9}, true, []byte{9}, true},
		{"truncated extension", []byte{0x90, 0x80}, false, nil, false},
		{"descriptor only", []byte{0x10}, false, nil, false},
		{"empty", nil, false, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, payload, ok := vp8Descriptor(tt.p)
			if start != tt.start || ok != tt.ok || !bytes.Equal(payload, tt.payload) {
				t.Fatalf("got %v % x %v, want %v % x %v", start, payload, ok, tt.start, tt.payload, tt.ok)
			}
		})
	}
}
