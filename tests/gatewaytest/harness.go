package gatewaytest

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

	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/playback"

	"github.com/pion/rtp"
	"go.uber.org/zap/zaptest"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/gateway"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/media/codec"
)

// Gateway is a real gateway serving on loopback in this process.
type Gateway struct {
	*gateway.Gateway
	T     testing.TB
	URL   string
	Token string
	Stop  context.CancelFunc
	Done  chan error
}

// portBase picks a port range for RTP that no other test uses.
var portBase = 41000 + (os.Getpid()%50)*100

// NextPorts reserves the next RTP port range of this test process.
func NextPorts() (int, int) {
	portBase += 40
	if portBase > 60000 {
		portBase = 41000
	}
	return portBase, portBase + 39
}

// tokens maps a test gateway's base URL to its ingest token, for helpers
// that only know the URL.
var tokens sync.Map

// AuthGet is http.Get with the gateway's bearer token (e.g. for /metrics).
func AuthGet(u string) (*http.Response, error) {
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

// Start runs a gateway from the embedded default config, modified
// by yaml (merged as an override document) and edit.
func Start(t testing.TB, edit func(*config.Config), opts ...gateway.Option) *Gateway {
	t.Helper()
	validateContract() // the harness's requests check docs/openapi.yaml (contract.go)
	cfg := Config(t, edit)
	ctx, cancel := context.WithCancel(context.Background())
	g, err := gateway.New(ctx, cfg, zaptest.NewLogger(t), opts...)
	if err != nil {
		t.Fatal(err)
	}
	tg := &Gateway{Gateway: g, T: t, Stop: cancel, Done: make(chan error, 1)}
	go func() { tg.Done <- g.Run(ctx) }()
	select {
	case <-g.Ready():
	case err := <-tg.Done:
		t.Fatalf("gateway did not start: %v", err)
	}
	tg.URL = "http://" + g.Addr()
	tok, err := os.ReadFile(cfg.IngestTokenPath())
	if err != nil {
		t.Fatal(err)
	}
	tg.Token = strings.TrimSpace(string(tok))
	tokens.Store(tg.URL, tg.Token)
	t.Cleanup(func() { tg.Shutdown() })
	return tg
}

// Config is the embedded default config for a test gateway (own data
// directory and ports, loopback), modified by edit and validated.
func Config(t testing.TB, edit func(*config.Config)) *config.Config {
	t.Helper()
	cfg, err := config.Parse(config.Default)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	cfg.API.Addr = "127.0.0.1:0"
	cfg.Media.PortMin, cfg.Media.PortMax = NextPorts()
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

// Shutdown stops the gateway and waits for Run to return (idempotent).
func (tg *Gateway) Shutdown() {
	if tg.Stop == nil {
		return
	}
	tg.Stop()
	tg.Stop = nil
	if err := <-tg.Done; err != nil {
		tg.T.Errorf("gateway run: %v", err)
	}
	tg.Close()
}

// Do sends an authenticated JSON request and decodes the JSON answer.
func (tg *Gateway) Do(method, path string, body, out any) int {
	tg.T.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
	}
	req, _ := http.NewRequest(method, tg.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+tg.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tg.T.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil && !errors.Is(err, io.EOF) {
			tg.T.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// Session is the session API's answer to a create or a get.
type Session struct {
	SessionID   string            `json:"sessionId"`
	RecordingID string            `json:"recordingId"`
	Recorded    bool              `json:"recorded"`
	PolicyID    string            `json:"policyId"`
	Tracks      []media.TrackAddr `json:"tracks"`
	KeyState    string            `json:"keyState"`
	Packets     int64             `json:"packets"`
	Dropped     int64             `json:"dropped"`
}

// CreateCall opens a recorded session on queue with one audio track per
// label (default caller and agent), sent from 127.0.0.1.
func (tg *Gateway) CreateCall(queue string, labels ...string) Session {
	tg.T.Helper()
	if len(labels) == 0 {
		labels = []string{"caller", "agent"}
	}
	var tracks []map[string]string
	for _, l := range labels {
		// Test senders send from 127.0.0.1 on ephemeral ports: host-only source.
		tracks = append(tracks, map[string]string{"label": l, "kind": "audio", "source": "127.0.0.1"})
	}
	var s Session
	code := tg.Do("POST", "/v1/sessions", map[string]any{"callId": fmt.Sprintf("call-%d", time.Now().UnixNano()),
		"queueId": queue, "direction": "INBOUND", "callerId": "+441234", "agentId": "agent-7", "tracks": tracks}, &s)
	if code != http.StatusCreated {
		tg.T.Fatalf("create session: %d", code)
	}
	return s
}

// End ends a session and returns its summary.
func (tg *Gateway) End(s Session) media.Summary {
	tg.T.Helper()
	var sum media.Summary
	if code := tg.Do("DELETE", "/v1/sessions/"+s.SessionID, nil, &sum); code != http.StatusOK {
		tg.T.Fatalf("end session: %d", code)
	}
	return sum
}

// WaitStored waits until the recording has left the spool for storage.
func (tg *Gateway) WaitStored(id string) {
	tg.T.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, ok := tg.Spool().Find(id); !ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tg.T.Fatalf("recording %s still in the spool", id)
}

// ExportTrack exports a stored recording (after WaitStored) as format.
func (tg *Gateway) ExportTrack(id, format, track string) ([]byte, playback.Result) {
	tg.T.Helper()
	tg.WaitStored(id) // exports need the index's final status and checksum
	var buf bytes.Buffer
	res, err := tg.Export(context.Background(), id, format, track, &buf)
	if err != nil {
		tg.T.Fatalf("export %s: %v", format, err)
	}
	return buf.Bytes(), res
}

// WAV is a parsed PCM WAV file.
type WAV struct {
	Rate, Channels, Bits int
	Samples              [][]int16 // per channel
}

// ParseWAV parses a PCM WAV file.
func ParseWAV(t testing.TB, b []byte) WAV {
	t.Helper()
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatalf("not a WAV file")
	}
	var w WAV
	for off := 12; off+8 <= len(b); {
		id, n := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8 : min(off+8+n, len(b))]
		switch id {
		case "fmt ":
			w.Channels = int(binary.LittleEndian.Uint16(body[2:]))
			w.Rate = int(binary.LittleEndian.Uint32(body[4:]))
			w.Bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			w.Samples = make([][]int16, w.Channels)
			for i := 0; i+2*w.Channels <= len(body); i += 2 * w.Channels {
				for c := 0; c < w.Channels; c++ {
					w.Samples[c] = append(w.Samples[c], int16(binary.LittleEndian.Uint16(body[i+2*c:])))
				}
			}
		}
		off += 8 + n + n%2
	}
	return w
}

// Sender sends generated PCMU RTP to a track address.
type Sender struct {
	T       testing.TB
	Conn    *net.UDPConn
	SSRC    uint32
	Seq     uint16
	Ts      uint32
	Payload func(i int) []byte
	n       int
}

// DialUDP connects a UDP socket to addr, closed when the test ends.
func DialUDP(t testing.TB, addr string) *net.UDPConn {
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

// NewSender sends a freq Hz tone as PCMU RTP to addr with ssrc.
func NewSender(t testing.TB, addr string, ssrc uint32, freq float64) *Sender {
	t.Helper()
	return &Sender{T: t, Conn: DialUDP(t, addr), SSRC: ssrc, Seq: 1000, Ts: 5000, Payload: func(i int) []byte { return Tone(freq, i) }}
}

// Tone returns packet i (160 samples) of a μ-law sine.
func Tone(freq float64, i int) []byte {
	p := make([]byte, 160)
	for k := range p {
		n := float64(i*160 + k)
		p[k] = codec.LinearToULaw(int16(8000 * math.Sin(2*math.Pi*freq*n/8000)))
	}
	return p
}

// Packet builds packet i of the stream without sending it.
func (s *Sender) Packet(i int) []byte {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: s.Seq + uint16(i),
		Timestamp: s.Ts + uint32(i)*160, SSRC: s.SSRC}, Payload: s.Payload(i)}
	b, err := p.Marshal()
	if err != nil {
		s.T.Fatal(err)
	}
	return b
}

// Send sends one datagram.
func (s *Sender) Send(b []byte) {
	if _, err := s.Conn.Write(b); err != nil {
		s.T.Fatal(err)
	}
}

// SendRange sends packets from..to-1 in order with the given pacing.
func (s *Sender) SendRange(from, to int, pace time.Duration) {
	next := time.Now()
	for i := from; i < to; i++ {
		s.Send(s.Packet(i))
		if pace > 0 {
			next = next.Add(pace)
			time.Sleep(time.Until(next))
		}
	}
}

// FFmpegTone sends a 8 kHz sine as PCMU RTP to addr with ffmpeg.
func FFmpegTone(t testing.TB, addr string, freq int, seconds float64) *exec.Cmd {
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

// FFmpegReference renders the same tone to raw μ-law for comparison.
func FFmpegReference(t testing.TB, freq int, seconds float64) []byte {
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

// NeedFFmpeg installs ffmpeg when it is missing (scripts/install-ffmpeg.sh).
func NeedFFmpeg(t testing.TB) {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(testenv.RepoRoot(t), "scripts", "install-ffmpeg.sh"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("install ffmpeg: %v\n%s", err, out)
	}
}

// FFprobeAudio returns sample rate, sample format and duration of a file.
func FFprobeAudio(t testing.TB, path string) (rate int, fmtName string, dur float64) {
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

// ErrorBody is the body of every error response of the gateway's
// endpoints, the session API and WHIP included.
type ErrorBody = httpx.Error
