package export

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

type oggPage struct {
	flags   byte
	granule int64
	serial  uint32
	seq     uint32
	packets [][]byte // whole packets ending on this page
}

// parseOgg reads Ogg pages back, checking the capture pattern, CRC, page
// sequence and that every packet ends on its page.
func parseOgg(t *testing.T, b []byte) []oggPage {
	t.Helper()
	var pages []oggPage
	for len(b) > 0 {
		if len(b) < 27 || string(b[:4]) != "OggS" || b[4] != 0 {
			t.Fatalf("page %d: bad header % x", len(pages), b[:min(len(b), 27)])
		}
		nseg := int(b[26])
		lacing := b[27 : 27+nseg]
		size := 27 + nseg
		for _, l := range lacing {
			size += int(l)
		}
		page := append([]byte(nil), b[:size]...)
		want := binary.LittleEndian.Uint32(page[22:])
		binary.LittleEndian.PutUint32(page[22:], 0)
		if got := oggCRC(page); got != want {
			t.Fatalf("page %d: CRC %#x, header says %#x", len(pages), got, want)
		}
		p := oggPage{flags: b[5], granule: int64(binary.LittleEndian.Uint64(b[6:])),
			serial: binary.LittleEndian.Uint32(b[14:]), seq: binary.LittleEndian.Uint32(b[18:])}
		if int(p.seq) != len(pages) {
			t.Fatalf("page sequence %d at index %d", p.seq, len(pages))
		}
		body := b[27+nseg : size]
		var cur []byte
		for i, l := range lacing {
			cur = append(cur, body[:l]...)
			body = body[l:]
			if l < 255 {
				p.packets = append(p.packets, cur)
				cur = nil
			} else if i == len(lacing)-1 {
				t.Fatalf("page %d: packet continues past the page", len(pages))
			}
		}
		pages = append(pages, p)
		b = b[size:]
	}
	return pages
}

// opusPackets encodes a test tone with ffmpeg's libopus (20 ms frames) and
// returns the audio packets of the Ogg file it writes, also checking our
// CRC against ffmpeg's pages.
func opusPackets(t *testing.T, seconds int) [][]byte {
	t.Helper()
	ffmpeg := tool(t, "ffmpeg", "ffmpeg")
	out, err := exec.Command(ffmpeg, "-v", "error", "-f", "lavfi",
		"-i", "sine=frequency=440:sample_rate=48000:duration="+strconv.Itoa(seconds),
		"-c:a", "libopus", "-b:a", "24k", "-frame_duration", "20", "-application", "voip",
		"-f", "ogg", "pipe:1").Output()
	if err != nil {
		t.Fatalf("ffmpeg opus encode: %v", err)
	}
	var pkts [][]byte
	for i, p := range parseOgg(t, out) { // CRCs of ffmpeg's pages verified here
		if i >= 2 { // OpusHead, OpusTags
			pkts = append(pkts, p.packets...)
		}
	}
	return pkts
}

func TestOpusSamples(t *testing.T) {
	tests := []struct {
		name string
		p    []byte
		want int
		err  bool
	}{
		{"SILK NB 10 ms", []byte{0 << 3}, 480, false},
		{"SILK WB 60 ms", []byte{11 << 3}, 2880, false},
		{"hybrid FB 20 ms", []byte{15 << 3}, 960, false},
		{"CELT 2.5 ms", []byte{28 << 3}, 120, false},
		{"CELT 20 ms stereo, two equal frames", []byte{31<<3 | 4 | 1}, 1920, false},
		{"code 3, 6 x 20 ms", []byte{31<<3 | 3, 6}, 5760, false},
		{"code 3, 7 x 20 ms is too long", []byte{31<<3 | 3, 7}, 0, true},
		{"code 3 without count", []byte{31<<3 | 3}, 0, true},
		{"code 3 zero frames", []byte{31<<3 | 3, 0}, 0, true},
		{"empty", nil, 0, true},
		{"silence 20 ms", opusSilence20ms, 960, false},
		{"silence 2.5 ms", opusSilence2_5ms, 120, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := opusSamples(tt.p)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("opusSamples(% x) = %d, %v; want %d, err %v", tt.p, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestWriteOggOpus(t *testing.T) {
	ffprobe, ffmpeg := tool(t, "ffprobe", "ffmpeg"), tool(t, "ffmpeg", "ffmpeg")
	pkts := opusPackets(t, 3) // 150 packets
	opusTrack := Track{Label: "agent", Kind: "audio", Codec: "opus", ClockRate: 48000, PayloadType: 111}
	rec := func(i int, seq uint16, ts uint32, arrival int64) Record {
		return Record{Type: RecordPacket, Arrival: arrival, Data: rtpBytes(t, 0xA, seq, ts, 111, pkts[i])}
	}
	ms := int64(time.Millisecond)
	tests := []struct {
		name    string
		recs    func() []Record
		samples int64 // expected length at 48 kHz
		silent  [][2]int64
		packets int
	}{
		{
			name: "in order",
			recs: func() []Record {
				var r []Record
				for i := range 150 {
					r = append(r, rec(i, uint16(i), uint32(960*i), int64(i)*20*ms))
				}
				return r
			},
			samples: 150 * 960, packets: 150,
		},
		{
			name: "loss, DTX and a pause keep the duration",
			recs: func() []Record {
				var r []Record
				for i := range 150 {
					switch {
					case i >= 20 && i < 30: // lost: sequence and timestamp gap
					case i >= 60 && i < 70: // DTX: timestamps jump, sequence does not
					case i >= 100 && i < 125: // paused 500 ms
					default:
						seq := i
						if i >= 70 {
							seq -= 10
						}
						r = append(r, rec(i, uint16(seq), uint32(960*i), int64(i)*20*ms))
					}
					if i == 100 {
						r = append(r, Record{Type: RecordPause, Track: AllTracks, Arrival: 100 * 20 * ms})
					}
					if i == 124 {
						r = append(r, Record{Type: RecordResume, Track: AllTracks, Arrival: 125 * 20 * ms})
					}
				}
				return r
			},
			samples: 150 * 960, packets: 105,
			silent: [][2]int64{{20 * 960, 30 * 960}, {60 * 960, 70 * 960}, {100 * 960, 125 * 960}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := build(t, []Track{opusTrack}, tt.recs())
			var buf bytes.Buffer
			st, err := WriteOggOpus(&buf, tl, "agent")
			if err != nil {
				t.Fatal(err)
			}
			if st.Samples != tt.samples || st.Packets != tt.packets || st.Skipped != 0 {
				t.Fatalf("stats %+v, want %d samples, %d packets", st, tt.samples, tt.packets)
			}
			pages := parseOgg(t, buf.Bytes())
			if len(pages) < 3 || pages[0].flags != oggBOS || string(pages[0].packets[0][:8]) != "OpusHead" ||
				string(pages[1].packets[0][:8]) != "OpusTags" || pages[len(pages)-1].flags&oggEOS == 0 {
				t.Fatalf("stream structure wrong: %d pages", len(pages))
			}
			// Granule positions: each page's is the sum of its packets' samples so far.
			var total int64
			for _, p := range pages[2:] {
				for _, pk := range p.packets {
					n, err := opusSamples(pk)
					if err != nil {
						t.Fatal(err)
					}
					total += int64(n)
				}
				if p.granule != total {
					t.Fatalf("page %d granule %d, packets sum to %d", p.seq, p.granule, total)
				}
			}

			path := filepath.Join(t.TempDir(), "synthetic.opus")
			if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(ffprobe, "-v", "error", "-show_streams", "-show_format", "-of", "json", path).Output()
			if err != nil {
				t.Fatalf("ffprobe: %v", err)
			}
			var probe struct {
				Streams []struct {
					CodecName string `json:"codec_name"`
				} `json:"streams"`
				Format struct {
					Duration string `json:"duration"`
				} `json:"format"`
			}
			if err := json.Unmarshal(out, &probe); err != nil || len(probe.Streams) != 1 || probe.Streams[0].CodecName != "opus" {
				t.Fatalf("ffprobe: %v\n%s", err, out)
			}
			if d, _ := strconv.ParseFloat(probe.Format.Duration, 64); math.Abs(d-float64(tt.samples)/48000) > 0.001 {
				t.Fatalf("ffprobe duration %s, want %v", probe.Format.Duration, float64(tt.samples)/48000)
			}
			raw, err := exec.Command(ffmpeg, "-v", "error", "-i", path, "-f", "s16le", "-ac", "1", "-ar", "48000", "pipe:1").Output()
			if err != nil {
				t.Fatalf("ffmpeg decode: %v", err)
			}
			if got := int64(len(raw) / 2); got != tt.samples {
				t.Fatalf("ffmpeg decoded %d samples, want %d", got, tt.samples)
			}
			sample := func(i int64) int16 { return int16(binary.LittleEndian.Uint16(raw[2*i:])) }
			for _, span := range tt.silent {
				// Skip the decoder's overlap into the first 2.5 ms of a gap.
				for i := span[0] + 240; i < span[1]; i++ {
					if v := sample(i); v > 64 || v < -64 {
						t.Fatalf("sample %d in a silent span is %d", i, v)
					}
				}
			}
			var loud int
			for i := int64(240); i < 20*960; i++ { // the tone is there before the first gap
				if v := sample(i); v > 2000 || v < -2000 {
					loud++
				}
			}
			if loud < 1000 {
				t.Fatalf("only %d loud samples in the tone", loud)
			}
		})
	}
}

func TestWriteOggOpusErrors(t *testing.T) {
	tl := build(t, []Track{pcmuTrack}, nil)
	if _, err := WriteOggOpus(&bytes.Buffer{}, tl, "caller"); !errors.Is(err, ErrCodec) {
		t.Fatalf("PCMU track: err = %v, want ErrCodec", err)
	}
	if _, err := WriteOggOpus(&bytes.Buffer{}, tl, "nobody"); !errors.Is(err, ErrNoTrack) {
		t.Fatalf("unknown label: err = %v, want ErrNoTrack", err)
	}
}
