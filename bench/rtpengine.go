package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mediaseal/mediaseal/bench/peers/ng"
)

// RTPEngineConfig says how to start rtpengine for a peer run.
type RTPEngineConfig struct {
	Bin      string // default: rtpengine on PATH, installed when missing
	RepoRoot string // holds scripts/install-rtpengine.sh (default: found above the working directory)
	Dir      string // temp dir: recordings (Dir/rec) and the log
	PortMin  int    // media ports (rtpengine takes 4 per call: RTP+RTCP per leg)
	PortMax  int
	CPUs     string // taskset CPU list ("" = no pinning)
	Threads  int    // --num-threads (0: rtpengine's default, max(cores, 4))
}

// RTPEngine is an rtpengine daemon the bench started: userspace only
// (--table=-1), loopback, recording every call that asks for it to pcap
// files (--recording-method=pcap, which rtpengine writes itself; the
// recording daemon is only for the kernel "proc" method).
type RTPEngine struct {
	NG      string // NG control listener host:port
	RecDir  string // pcaps/ and metadata/ below
	LogPath string
	cmd     *exec.Cmd
	exited  chan error
}

// EnsureRTPEngine returns the rtpengine binary, running
// scripts/install-rtpengine.sh of the repository when it is missing.
func EnsureRTPEngine(ctx context.Context, root string) (string, error) {
	if p, err := exec.LookPath("rtpengine"); err == nil {
		return p, nil
	}
	if root == "" {
		r, err := FindRepoRoot()
		if err != nil {
			return "", fmt.Errorf("%w: rtpengine is not installed and %v", ErrPeer, err)
		}
		root = r
	}
	script := filepath.Join(root, "scripts", "install-rtpengine.sh")
	if out, err := exec.CommandContext(ctx, "bash", script).CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: rtpengine is not installed and %s failed: %v\n%s", ErrPeer, script, err, out)
	}
	return exec.LookPath("rtpengine")
}

// StartRTPEngine starts rtpengine in the foreground and waits until it
// answers an NG ping.
func StartRTPEngine(ctx context.Context, c RTPEngineConfig) (*RTPEngine, error) {
	bin := c.Bin
	if bin == "" {
		var err error
		if bin, err = EnsureRTPEngine(ctx, c.RepoRoot); err != nil {
			return nil, err
		}
	}
	ngPort, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	e := &RTPEngine{NG: fmt.Sprintf("127.0.0.1:%d", ngPort), RecDir: filepath.Join(c.Dir, "rec"),
		LogPath: filepath.Join(c.Dir, "rtpengine.log"), exited: make(chan error, 1)}
	if err := os.MkdirAll(e.RecDir, 0o700); err != nil {
		return nil, err
	}
	args := []string{bin, "--config-file=none", "--foreground", "--table=-1", "--log-stderr", "--log-level=4",
		"--interface=127.0.0.1", "--listen-ng=" + e.NG,
		fmt.Sprintf("--port-min=%d", c.PortMin), fmt.Sprintf("--port-max=%d", c.PortMax),
		// A deleted call is finished (its pcap closed) at once, not 30 s later.
		"--delete-delay=0",
		"--recording-dir=" + e.RecDir, "--recording-method=pcap", "--recording-format=eth"}
	if c.Threads > 0 {
		args = append(args, fmt.Sprintf("--num-threads=%d", c.Threads))
	}
	if e.cmd, err = startDaemon(args, c.CPUs, e.LogPath, e.exited); err != nil {
		return nil, fmt.Errorf("%w: start rtpengine: %v", ErrPeer, err)
	}
	cl, err := ng.Dial(e.NG)
	if err != nil {
		_ = e.Stop(5 * time.Second)
		return nil, err
	}
	defer cl.Close()
	cl.AttemptTimeout = 200 * time.Millisecond
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-e.exited:
			e.exited <- err
			return nil, fmt.Errorf("%w: rtpengine exited at start (%v): %s", ErrPeer, err, tail(e.LogPath))
		case <-ctx.Done():
			_ = e.Stop(5 * time.Second)
			return nil, ctx.Err()
		default:
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := cl.Ping(pctx)
		cancel()
		if err == nil {
			return e, nil
		}
		if time.Now().After(deadline) {
			_ = e.Stop(5 * time.Second)
			return nil, fmt.Errorf("%w: rtpengine does not answer NG pings on %s: %v; log: %s", ErrPeer, e.NG, err, tail(e.LogPath))
		}
	}
}

// Pid is rtpengine's process id (taskset execs it, so the pid holds).
func (e *RTPEngine) Pid() int { return e.cmd.Process.Pid }

// Stop sends SIGTERM and waits up to timeout, then kills rtpengine.
// Idempotent.
func (e *RTPEngine) Stop(timeout time.Duration) error {
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-e.exited:
		e.exited <- err
		return exitErr(err)
	case <-time.After(timeout):
		_ = e.cmd.Process.Kill()
		err := <-e.exited
		e.exited <- err
		return errors.Join(fmt.Errorf("%w: rtpengine did not stop within %s; killed", ErrPeer, timeout), err)
	}
}

// exitErr ignores the exit by the SIGTERM that Stop sent.
func exitErr(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
	}
	return err
}

func freeUDPPort() (int, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}
