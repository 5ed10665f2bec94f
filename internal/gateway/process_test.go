package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/testenv"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// mediasealBinary builds cmd/mediaseal once per test run.
func mediasealBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		// One 40 MB binary per checkout, replaced on every run, not one left
		// per run; not under .tools/, which worktrees share (one checkout's
		// test would run another's binary).
		root := testenv.RepoRoot(t)
		dir := filepath.Join(os.TempDir(), "mediaseal-test-bin", fmt.Sprintf("%x", sha256.Sum256([]byte(root)))[:16])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "mediaseal")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/mediaseal")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// gatewayProcess is `mediaseal serve` running as a child process.
type gatewayProcess struct {
	t       *testing.T
	cfgPath string
	dataDir string
	addr    string
	cmd     *exec.Cmd
	log     *bytes.Buffer
	tg      *testGateway // HTTP helpers only
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func newGatewayProcess(t *testing.T, extra string) *gatewayProcess {
	t.Helper()
	dir := t.TempDir()
	pmin, pmax := nextPorts()
	p := &gatewayProcess{t: t, dataDir: filepath.Join(dir, "data"), addr: freeAddr(t), cfgPath: filepath.Join(dir, "mediaseal.yaml")}
	cfg := fmt.Sprintf(`dataDir: %s
api: {addr: "%s", shutdownTimeout: 20s}
media: {portMin: %d, portMax: %d}
recording: {flushInterval: 200ms}
log: {format: json, level: info}
policies:
  - {id: all, name: all, recordingType: AUDIO, targetIds: ["*"]}
%s`, p.dataDir, p.addr, pmin, pmax, extra)
	if err := os.WriteFile(p.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *gatewayProcess) start() {
	p.t.Helper()
	p.log = new(bytes.Buffer)
	p.cmd = exec.Command(mediasealBinary(p.t), "serve", "-c", p.cfgPath)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + p.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("gateway did not start: %v\n%s", err, p.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	tok, err := os.ReadFile(filepath.Join(p.dataDir, "ingest.token"))
	if err != nil {
		p.t.Fatal(err)
	}
	p.tg = &testGateway{t: p.t, url: "http://" + p.addr, token: strings.TrimSpace(string(tok))}
	tokens.Store(p.tg.url, p.tg.token)
}

func (p *gatewayProcess) signal(sig syscall.Signal) error {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
	return p.cmd.Wait()
}

// offline opens the stopped gateway's data dir for export and the index.
func (p *gatewayProcess) offline() *Gateway {
	p.t.Helper()
	cfg, err := config.Load(p.cfgPath)
	if err != nil {
		p.t.Fatal(err)
	}
	g, err := New(context.Background(), cfg, zap.NewNop())
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { g.Close() })
	return g
}

func waitIndexStatus(t *testing.T, g *Gateway, id string, want string) store.Recording {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rec, err := g.index.GetRecording(context.Background(), id)
		if err == nil && rec.Status == want {
			return rec
		}
		if time.Now().After(deadline) {
			t.Fatalf("recording %s: status %q (%v), want %s", id, rec.Status, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCrashRecovery kills the gateway with SIGKILL mid-call: after a
// restart the recording is RECOVERED and exports everything up to the last
// flushed chunk (at most one flush interval lost).
func TestCrashRecovery(t *testing.T) {
	p := newGatewayProcess(t, "")
	p.start()
	s := p.tg.createCall("q", "caller")
	snd := newSender(t, s.Tracks[0].RTP, 99, 440)
	snd.sendRange(0, 100, 20*time.Millisecond) // 2 s
	time.Sleep(400 * time.Millisecond)         // two flush intervals: everything sent is durable
	if err := p.signal(syscall.SIGKILL); err == nil {
		t.Fatal("SIGKILL did not kill")
	}
	p.start() // recovery runs before the API listens
	if err := p.signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM exit: %v\n%s", err, p.log)
	}
	g := p.offline()
	rec := waitIndexStatus(t, g, s.RecordingID, store.RecordingRecovered)
	if rec.Chunks < 2 {
		t.Fatalf("recovered with %d chunks", rec.Chunks)
	}
	var buf bytes.Buffer
	res, err := g.Export(context.Background(), s.RecordingID, FormatWAV, "caller", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status.String() != "RECOVERED" || len(res.Tracks) != 1 || res.Tracks[0].Media != 100 {
		t.Fatalf("export after crash: status %s, tracks %+v (want 100 packets)", res.Status, res.Tracks)
	}
}

// TestSigtermFinishesRecordings stops the gateway mid-call: the recording
// is COMPLETE, uploaded, and the process exits 0.
func TestSigtermFinishesRecordings(t *testing.T) {
	p := newGatewayProcess(t, "")
	p.start()
	s := p.tg.createCall("q", "caller", "agent")
	a := newSender(t, s.Tracks[0].RTP, 1, 440)
	b := newSender(t, s.Tracks[1].RTP, 2, 660)
	for i := 0; i < 50; i++ {
		a.send(a.packet(i))
		b.send(b.packet(i))
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if err := p.signal(syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.log)
	}
	g := p.offline()
	rec := waitIndexStatus(t, g, s.RecordingID, store.RecordingComplete)
	if rec.ObjectKey == "" || rec.SHA256 == "" {
		t.Fatalf("index %+v", rec)
	}
	if _, ok := g.spool.Find(s.RecordingID); ok {
		t.Fatal("recording left in the spool after a graceful shutdown")
	}
	var buf bytes.Buffer
	res, err := g.Export(context.Background(), s.RecordingID, FormatWAVStereo, "", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status.String() != "COMPLETE" || res.Tracks[0].Media != 50 || res.Tracks[1].Media != 50 {
		t.Fatalf("export: %s %+v", res.Status, res.Tracks)
	}
}

// TestBadConfigNamesFieldAndExits runs the binary on a bad config.
func TestBadConfigNamesFieldAndExits(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ yaml, want string }{
		{"kms:\n  timeout: 5 seconds\n", `line 2: "5 seconds" is not a duration`},
		{"media:\n  portMin: 70000\n", "media.portMin"},
		{"stroage:\n  type: fs\n", "field stroage not found"},
	} {
		path := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(path, []byte(c.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(mediasealBinary(t), "serve", "-c", path, "--data-dir", dir).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Fatalf("config %q: err %v, output %q, want %q", c.yaml, err, out, c.want)
		}
	}
}
