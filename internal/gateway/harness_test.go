package gateway

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"go.uber.org/zap/zaptest"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/media/codec"
)

// testGateway is a real gateway serving on loopback in this process.
type testGateway struct {
	*Gateway
	t     testing.TB
	url   string
	token string
	stop  context.CancelFunc
	done  chan error
}

// freePortBase picks a port range for RTP that no other test uses.
var portBase = 41000 + (os.Getpid()%50)*100

func nextPorts() (int, int) {
	portBase += 40
	if portBase > 60000 {
		portBase = 41000
	}
	return portBase, portBase + 39
}

// tokens maps a test gateway's base URL to its ingest token, for helpers
// that only know the URL.
var tokens sync.Map

// authGet is http.Get with the gateway's bearer token (e.g. for /metrics).
func authGet(u string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for base, tok := range tokens.Range {
		if strings.HasPrefix(u, base.(string)+"/") {
			req.Header.Set("Authorization", "Bearer "+tok.(string))
		}
	}
	return http.DefaultClient.Do(req)
}

// startGateway runs a gateway from the embedded default config, modified
// by yaml (merged as an override document) and edit.
func startGateway(t testing.TB, edit func(*config.Config), opts ...Option) *testGateway {
	t.Helper()
	cfg := testConfig(t, edit)
	ctx, cancel := context.WithCancel(context.Background())
	g, err := New(ctx, cfg, zaptest.NewLogger(t), opts...)
	if err != nil {
		t.Fatal(err)
	}
	tg := &testGateway{Gateway: g, t: t, stop: cancel, done: make(chan error, 1)}
	go func() { tg.done <- g.Run(ctx) }()
	select {
	case <-g.Ready():
	case err := <-tg.done:
		t.Fatalf("gateway did not start: %v", err)
	}
	tg.url = "http://" + g.Addr()
	tok, err := os.ReadFile(cfg.IngestTokenPath())
	if err != nil {
		t.Fatal(err)
	}
	tg.token = strings.TrimSpace(string(tok))
	tokens.Store(tg.url, tg.token)
	t.Cleanup(func() { tg.shutdown() })
	return tg
}

// testConfig is the embedded default config for a test gateway (own data
// directory and ports, loopback), modified by edit and validated.
func testConfig(t testing.TB, edit func(*config.Config)) *config.Config {
	t.Helper()
	cfg, err := config.Parse(config.Default)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	cfg.API.Addr = "127.0.0.1:0"
	cfg.Media.PortMin, cfg.Media.PortMax = nextPorts()
	cfg.Recording.FlushInterval = config.Duration(200 * time.Millisecond)
	// The control-plane tests drive the API with tg.admin: they turn the
	// admin token on explicitly (default off; see TestCeremonyConfigWiring).
	adminOn := true
	cfg.Ceremony.AdminToken = &adminOn
	if edit != nil {
		edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func (tg *testGateway) shutdown() {
	if tg.stop == nil {
		return
	}
	tg.stop()
	tg.stop = nil
	if err := <-tg.done; err != nil {
		tg.t.Errorf("gateway run: %v", err)
	}
	tg.Close()
}

// do sends an authenticated JSON request and decodes the JSON answer.
func (tg *testGateway) do(method, path string, body, out any) int {
	tg.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
	}
	req, _ := http.NewRequest(method, tg.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+tg.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tg.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil && !errors.Is(err, io.EOF) {
			tg.t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

type sessionResp struct {
	SessionID   string            `json:"sessionId"`
	RecordingID string            `json:"recordingId"`
	Recorded    bool              `json:"recorded"`
	PolicyID    string            `json:"policyId"`
	Tracks      []media.TrackAddr `json:"tracks"`
	KeyState    string            `json:"keyState"`
	Packets     int64             `json:"packets"`
	Dropped     int64             `json:"dropped"`
}

func (tg *testGateway) createCall(queue string, labels ...string) sessionResp {
	tg.t.Helper()
	if len(labels) == 0 {
		labels = []string{"caller", "agent"}
	}
	var tracks []map[string]string
	for _, l := range labels {
		// Test senders send from 127.0.0.1 on ephemeral ports: host-only source.
		tracks = append(tracks, map[string]string{"label": l, "kind": "audio", "source": "127.0.0.1"})
	}
	var s sessionResp
	code := tg.do("POST", "/v1/sessions", map[string]any{"callId": fmt.Sprintf("call-%d", time.Now().UnixNano()),
		"queueId": queue, "direction": "INBOUND", "callerId": "+441234", "agentId": "agent-7", "tracks": tracks}, &s)
	if code != http.StatusCreated {
		tg.t.Fatalf("create session: %d", code)
	}
	return s
}

func (tg *testGateway) end(s sessionResp) media.Summary {
	tg.t.Helper()
	var sum media.Summary
	if code := tg.do("DELETE", "/v1/sessions/"+s.SessionID, nil, &sum); code != http.StatusOK {
		tg.t.Fatalf("end session: %d", code)
	}
	return sum
}

// waitStored waits until the recording has left the spool for storage.
func (tg *testGateway) waitStored(id string) {
	tg.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, ok := tg.spool.Find(id); !ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tg.t.Fatalf("recording %s still in the spool", id)
}

func (tg *testGateway) export(id, format, track string) ([]byte, ExportResult) {
	tg.t.Helper()
	tg.waitStored(id) // exports need the index's final status and checksum
	var buf bytes.Buffer
	res, err := tg.Export(context.Background(), id, format, track, &buf)
	if err != nil {
		tg.t.Fatalf("export %s: %v", format, err)
	}
	return buf.Bytes(), res
}

// wav is a parsed PCM WAV file.
type wav struct {
	rate, channels, bits int
	samples              [][]int16 // per channel
}

func parseWAV(t testing.TB, b []byte) wav {
	t.Helper()
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatalf("not a WAV file")
	}
	var w wav
	for off := 12; off+8 <= len(b); {
		id, n := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8 : min(off+8+n, len(b))]
		switch id {
		case "fmt ":
			w.channels = int(binary.LittleEndian.Uint16(body[2:]))
			w.rate = int(binary.LittleEndian.Uint32(body[4:]))
			w.bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			w.samples = make([][]int16, w.channels)
			for i := 0; i+2*w.channels <= len(body); i += 2 * w.channels {
				for c := 0; c < w.channels; c++ {
					w.samples[c] = append(w.samples[c], int16(binary.LittleEndian.Uint16(body[i+2*c:])))
				}
			}
		}
		off += 8 + n + n%2
	}
	return w
}

// rtpSender sends generated PCMU RTP to a track address.
type rtpSender struct {
	t       testing.TB
	conn    *net.UDPConn
	ssrc    uint32
	seq     uint16
	ts      uint32
	payload func(i int) []byte
	n       int
}

// dialUDP connects a UDP socket to addr, closed when the test ends.
func dialUDP(t testing.TB, addr string) *net.UDPConn {
	t.Helper()
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newSender(t testing.TB, addr string, ssrc uint32, freq float64) *rtpSender {
	t.Helper()
	return &rtpSender{t: t, conn: dialUDP(t, addr), ssrc: ssrc, seq: 1000, ts: 5000, payload: func(i int) []byte { return tone(freq, i) }}
}

// tone returns packet i (160 samples) of a μ-law sine.
func tone(freq float64, i int) []byte {
	p := make([]byte, 160)
	for k := range p {
		n := float64(i*160 + k)
		p[k] = codec.LinearToULaw(int16(8000 * math.Sin(2*math.Pi*freq*n/8000)))
	}
	return p
}

// packet builds packet i of the stream without sending it.
func (s *rtpSender) packet(i int) []byte {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: s.seq + uint16(i),
		Timestamp: s.ts + uint32(i)*160, SSRC: s.ssrc}, Payload: s.payload(i)}
	b, err := p.Marshal()
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

func (s *rtpSender) send(b []byte) {
	if _, err := s.conn.Write(b); err != nil {
		s.t.Fatal(err)
	}
}

// sendRange sends packets from..to-1 in order with the given pacing.
func (s *rtpSender) sendRange(from, to int, pace time.Duration) {
	next := time.Now()
	for i := from; i < to; i++ {
		s.send(s.packet(i))
		if pace > 0 {
			next = next.Add(pace)
			time.Sleep(time.Until(next))
		}
	}
}

// ffmpegTone sends a 8 kHz sine as PCMU RTP to addr with ffmpeg.
func ffmpegTone(t testing.TB, addr string, freq int, seconds float64) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi",
		"-i", fmt.Sprintf("sine=frequency=%d:sample_rate=8000:duration=%g", freq, seconds),
		"-af", "asetnsamples=n=160:p=0", "-ac", "1", "-c:a", "pcm_mulaw", "-f", "rtp", "-payload_type", "0", "rtp://"+addr)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// ffmpegReference renders the same tone to raw μ-law for comparison.
func ffmpegReference(t testing.TB, freq int, seconds float64) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "ref.ulaw")
	cmd := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi",
		"-i", fmt.Sprintf("sine=frequency=%d:sample_rate=8000:duration=%g", freq, seconds),
		"-ac", "1", "-c:a", "pcm_mulaw", "-f", "mulaw", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg reference: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func needFFmpeg(t testing.TB) {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(testenv.RepoRoot(t), "scripts", "install-ffmpeg.sh"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("install ffmpeg: %v\n%s", err, out)
	}
}

// ffprobeAudio returns sample rate, sample format and duration of a file.
func ffprobeAudio(t testing.TB, path string) (rate int, fmtName string, dur float64) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
		"stream=sample_rate,sample_fmt,duration", "-of", "default=noprint_wrappers=1", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "sample_rate":
			fmt.Sscan(v, &rate)
		case "sample_fmt":
			fmtName = v
		case "duration":
			fmt.Sscan(v, &dur)
		}
	}
	return
}
