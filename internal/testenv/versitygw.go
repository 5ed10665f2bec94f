package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// VersityGWRegion is the region a started versitygw reports.
const VersityGWRegion = "us-east-1"

// VersityGW is a running versitygw (S3 gateway, posix backend) bound to a
// loopback port, with generated root credentials and one bucket created
// with object lock enabled. Its data survives Stop/Start and Restart, so a
// fault test can take S3 away mid-call and bring the same bucket back.
type VersityGW struct {
	Endpoint  string // http://127.0.0.1:port
	Region    string
	AccessKey string
	SecretKey string
	Bucket    string
	// Root is the posix directory holding the buckets.
	Root string

	t    testing.TB
	bin  string
	port string
	dir  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	paused bool
}

// VersityGWBinary returns the path of the versitygw binary, installing it
// with scripts/install-versitygw.sh when absent.
func VersityGWBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(RepoRoot(t), ".tools", "bin", "versitygw")
	if _, err := os.Stat(bin); err != nil {
		runScript(t, "install-versitygw.sh")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("testenv: versitygw not found at %s after scripts/install-versitygw.sh", bin)
	}
	return bin
}

// StartVersityGW starts versitygw on a free loopback port over a fresh
// posix directory and creates the bucket "mediaseal" (object lock enabled).
// It is stopped at test end.
func StartVersityGW(t testing.TB) *VersityGW {
	t.Helper()
	dir, err := os.MkdirTemp("", "versitygw-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	g := &VersityGW{
		Region:    VersityGWRegion,
		AccessKey: "AK" + randomHex(t, 9),
		SecretKey: randomHex(t, 20),
		Bucket:    "mediaseal",
		Root:      filepath.Join(dir, "root"),
		t:         t,
		bin:       VersityGWBinary(t),
		port:      freePort(t),
		dir:       dir,
	}
	if err := os.Mkdir(g.Root, 0o700); err != nil {
		t.Fatal(err)
	}
	g.Endpoint = "http://127.0.0.1:" + g.port
	g.Start()
	t.Cleanup(g.Stop)
	g.NewBucket(t, g.Bucket)
	return g
}

// Client returns an S3 client for the gateway (path-style, static root
// credentials) for test set-up and inspection.
func (g *VersityGW) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       g.Region,
		BaseEndpoint: aws.String(g.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(g.AccessKey, g.SecretKey, ""),
	})
}

// NewBucket creates another bucket, with object lock enabled.
func (g *VersityGW) NewBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := g.Client().CreateBucket(ctx, &s3.CreateBucketInput{
		Bucket:                     aws.String(name),
		ObjectLockEnabledForBucket: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("testenv: create bucket %s: %v", name, err)
	}
}

// PID is the process id of the running gateway, 0 when stopped.
func (g *VersityGW) PID() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cmd == nil {
		return 0
	}
	return g.cmd.Process.Pid
}

// Pause stops the gateway with SIGSTOP: connections are accepted by the
// kernel but never answered, as with an overloaded or partitioned S3.
// Resume undoes it.
func (g *VersityGW) Pause() {
	g.t.Helper()
	g.signal(syscall.SIGSTOP, true)
}

// Resume continues a paused gateway (SIGCONT).
func (g *VersityGW) Resume() {
	g.t.Helper()
	g.signal(syscall.SIGCONT, false)
}

func (g *VersityGW) signal(sig syscall.Signal, paused bool) {
	g.t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cmd == nil {
		g.t.Fatalf("testenv: versitygw is not running")
	}
	if err := g.cmd.Process.Signal(sig); err != nil {
		g.t.Fatalf("testenv: %v to versitygw: %v", sig, err)
	}
	g.paused = paused
	if sig == syscall.SIGSTOP {
		// Delivery is asynchronous: wait until every thread is stopped, or a
		// request sent right after Pause may still be served.
		pid := g.cmd.Process.Pid
		deadline := time.Now().Add(5 * time.Second)
		for !allStopped(pid) {
			if time.Now().After(deadline) {
				g.t.Fatalf("testenv: versitygw (pid %d) did not stop", pid)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// Restart stops the gateway and starts it again on the same port and data.
func (g *VersityGW) Restart() {
	g.t.Helper()
	g.Stop()
	g.Start()
}

// Start starts the gateway (after Stop) on the same port and data directory
// and waits until it answers. Starting a running gateway is a no-op.
func (g *VersityGW) Start() {
	t := g.t
	t.Helper()
	g.mu.Lock()
	if g.cmd != nil {
		g.mu.Unlock()
		return
	}
	logPath := filepath.Join(g.dir, "versitygw.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		g.mu.Unlock()
		t.Fatal(err)
	}
	cmd := exec.Command(g.bin, "--port", "127.0.0.1:"+g.port, "--region", g.Region, "--quiet",
		"posix", "--dir-perms", "0700", "--file-perms", "0600", g.Root)
	// Credentials go through the environment, not argv (visible in ps).
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+g.AccessKey, "ROOT_SECRET_ACCESS_KEY="+g.SecretKey)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		g.mu.Unlock()
		logf.Close()
		t.Fatalf("testenv: start versitygw: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	g.cmd, g.done, g.paused = cmd, done, false
	g.mu.Unlock()

	// Wait until it answers HTTP (any status: anonymous requests are refused).
	deadline := time.Now().Add(20 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-done:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("testenv: versitygw exited at start:\n%s", log)
		default:
		}
		resp, err := client.Get(g.Endpoint)
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: versitygw not answering on %s: %v", g.Endpoint, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the gateway (resuming it first if paused) and waits for it to
// exit; the data directory is kept. Stopping a stopped gateway is a no-op.
func (g *VersityGW) Stop() {
	g.mu.Lock()
	cmd, done := g.cmd, g.done
	g.cmd, g.paused = nil, false
	g.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT)
	_ = cmd.Process.Kill()
	<-done
}

// Log returns what the gateway printed so far, for failure messages.
func (g *VersityGW) Log() string {
	b, err := os.ReadFile(filepath.Join(g.dir, "versitygw.log"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err.Error()
	}
	return string(b)
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
