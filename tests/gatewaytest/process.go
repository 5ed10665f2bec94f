package gatewaytest

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
	"github.com/mediaseal/mediaseal/internal/gateway"
	"github.com/mediaseal/mediaseal/internal/testenv"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// MediasealBinary builds cmd/mediaseal once per test run.
func MediasealBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		// One 40 MB binary per checkout and test package, replaced on every
		// run, not one left per run; not under .tools/, which worktrees share
		// (one checkout's test would run another's binary). Per package
		// because go test -p runs the packages at once: one package's build
		// must not rewrite the binary another is executing.
		root := testenv.RepoRoot(t)
		dir := filepath.Join(os.TempDir(), "mediaseal-test-bin", fmt.Sprintf("%x", sha256.Sum256([]byte(root)))[:16])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "mediaseal-"+strings.TrimSuffix(filepath.Base(os.Args[0]), ".test"))
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

// GatewayProcess is `mediaseal serve` running as a child process.
type GatewayProcess struct {
	T       *testing.T
	CfgPath string
	DataDir string
	Addr    string
	cmd     *exec.Cmd
	Log     *bytes.Buffer
	TG      *Gateway // HTTP helpers only
}

// FreeAddr is a loopback TCP address free at the time of the call.
func FreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// NewGatewayProcess writes the config of a child `mediaseal serve` (extra
// appended to it) without starting it.
func NewGatewayProcess(t *testing.T, extra string) *GatewayProcess {
	t.Helper()
	dir := t.TempDir()
	pmin, pmax := NextPorts()
	p := &GatewayProcess{T: t, DataDir: filepath.Join(dir, "data"), Addr: FreeAddr(t), CfgPath: filepath.Join(dir, "mediaseal.yaml")}
	cfg := fmt.Sprintf(`dataDir: %s
api: {addr: "%s", shutdownTimeout: 20s}
media: {portMin: %d, portMax: %d}
recording: {flushInterval: 200ms}
log: {format: json, level: info}
policies:
  - {id: all, name: all, recordingType: AUDIO, targetIds: ["*"]}
%s`, p.DataDir, p.Addr, pmin, pmax, extra)
	if err := os.WriteFile(p.CfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Start runs the process and waits for /healthz.
func (p *GatewayProcess) Start() {
	p.T.Helper()
	p.Log = new(bytes.Buffer)
	p.cmd = exec.Command(MediasealBinary(p.T), "serve", "-c", p.CfgPath)
	p.cmd.Stdout, p.cmd.Stderr = p.Log, p.Log
	if err := p.cmd.Start(); err != nil {
		p.T.Fatal(err)
	}
	p.T.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + p.Addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			p.T.Fatalf("gateway did not start: %v\n%s", err, p.Log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	tok, err := os.ReadFile(filepath.Join(p.DataDir, "ingest.token"))
	if err != nil {
		p.T.Fatal(err)
	}
	p.TG = &Gateway{T: p.T, URL: "http://" + p.Addr, Token: strings.TrimSpace(string(tok))}
	tokens.Store(p.TG.URL, p.TG.Token)
}

// Signal sends sig and waits for the process to exit.
func (p *GatewayProcess) Signal(sig syscall.Signal) error {
	p.T.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.T.Fatal(err)
	}
	return p.cmd.Wait()
}

// Offline opens the stopped gateway's data dir for export and the index.
func (p *GatewayProcess) Offline() *gateway.Gateway {
	p.T.Helper()
	cfg, err := config.Load(p.CfgPath)
	if err != nil {
		p.T.Fatal(err)
	}
	g, err := gateway.New(context.Background(), cfg, zap.NewNop())
	if err != nil {
		p.T.Fatal(err)
	}
	p.T.Cleanup(func() { g.Close() })
	return g
}

// WaitIndexStatus waits until the index holds recording id with status want.
func WaitIndexStatus(t *testing.T, g *gateway.Gateway, id string, want string) store.Recording {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rec, err := g.Store().GetRecording(context.Background(), id)
		if err == nil && rec.Status == want {
			return rec
		}
		if time.Now().After(deadline) {
			t.Fatalf("recording %s: status %q (%v), want %s", id, rec.Status, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
