package ng

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// daemon is an rtpengine the test started: userspace only, loopback,
// recording every call that asks to pcap files under recDir.
type daemon struct {
	ng      string // NG listener host:port
	recDir  string
	portMin int
	portMax int
	cmd     *exec.Cmd
	log     string
}

// rtpengineBin finds rtpengine, installing it with
// scripts/install-rtpengine.sh (found above this directory) when missing.
func rtpengineBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("rtpengine"); err == nil {
		return p
	}
	dir, _ := os.Getwd()
	for {
		s := filepath.Join(dir, "scripts", "install-rtpengine.sh")
		if _, err := os.Stat(s); err == nil {
			if out, err := exec.Command("bash", s).CombinedOutput(); err != nil {
				t.Fatalf("rtpengine is missing and %s failed: %v\n%s", s, err, out)
			}
			break
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("rtpengine is missing and scripts/install-rtpengine.sh was not found above the working directory")
		}
		dir = up
	}
	p, err := exec.LookPath("rtpengine")
	if err != nil {
		t.Fatalf("rtpengine still missing after scripts/install-rtpengine.sh: %v", err)
	}
	return p
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// startDaemon runs rtpengine in the foreground until the test ends.
func startDaemon(t *testing.T) *daemon {
	t.Helper()
	bin := rtpengineBin(t)
	dir := t.TempDir()
	// A random block of 200 media ports, away from the bench's 30000+.
	base := 45000 + 200*rand.IntN(50)
	d := &daemon{ng: fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t)), recDir: filepath.Join(dir, "rec"),
		portMin: base, portMax: base + 199, log: filepath.Join(dir, "rtpengine.log")}
	if err := os.Mkdir(d.recDir, 0o700); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(d.log)
	if err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(bin, "--config-file=none", "--foreground", "--table=-1", "--log-stderr", "--log-level=5",
		"--interface=127.0.0.1", "--listen-ng="+d.ng, fmt.Sprintf("--port-min=%d", d.portMin), fmt.Sprintf("--port-max=%d", d.portMax),
		"--delete-delay=0", "--recording-dir="+d.recDir, "--recording-method=pcap", "--recording-format=eth")
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = d.cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = d.cmd.Process.Kill()
			<-exited
		}
	})
	c, err := Dial(d.ng)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.AttemptTimeout = 200 * time.Millisecond
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx)
		cancel()
		if err == nil {
			return d
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(d.log)
			t.Fatalf("rtpengine exited at start:\n%s", b)
		default:
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(d.log)
			t.Fatalf("rtpengine does not answer ping on %s: %v\n%s", d.ng, err, b)
		}
	}
}
func itoa(i int) string { return strconv.Itoa(i) }
