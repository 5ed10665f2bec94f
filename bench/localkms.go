package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// local-kms identity (as internal/testenv starts it for the tests).
const (
	localKMSRegion  = "eu-west-2"
	localKMSAccount = "111122223333"
	localKMSKeyID   = "bench-cmk-1"
)

// LocalKMS is a local-kms process the bench started, with one seeded AES
// key, and the delaying proxy in front of it.
type LocalKMS struct {
	Endpoint string // local-kms itself
	Proxy    *DelayProxy
	Region   string
	KeyARN   string
	cmd      *exec.Cmd
	dir      string
	exited   chan struct{}
}

// ProxyEndpoint is the URL the gateway is given.
func (l *LocalKMS) ProxyEndpoint() string { return "http://" + l.Proxy.Addr }

// FindRepoRoot walks up from the working directory to the module root
// (the directory holding go.mod and scripts/install-local-kms.sh).
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "scripts", "install-local-kms.sh")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("%w: no repository root (scripts/install-local-kms.sh) above the working directory", ErrKMS)
		}
		dir = up
	}
}

// StartLocalKMS installs local-kms when absent (scripts/install-local-kms.sh
// of the repository at root), starts it on a free loopback port with a
// fresh data dir and a seed file holding one random AES key, and puts a
// DelayProxy adding delay to each request in front of it. Close stops both
// and removes the data dir.
func StartLocalKMS(ctx context.Context, root string, delay time.Duration) (*LocalKMS, error) {
	bin := filepath.Join(root, ".tools", "bin", "local-kms")
	if _, err := os.Stat(bin); err != nil {
		cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "install-local-kms.sh"))
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%w: scripts/install-local-kms.sh: %v\n%s", ErrKMS, err, out)
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mediaseal-bench-kms-")
	if err != nil {
		return nil, err
	}
	backing := make([]byte, 32)
	if _, err := rand.Read(backing); err != nil {
		return nil, err
	}
	// The seed's backing key exists only for this run's emulator and is
	// removed with dir; it is test key material, not a customer's.
	seed := fmt.Sprintf("Keys:\n  Symmetric:\n    Aes:\n      - Metadata:\n          KeyId: %s\n        BackingKeys:\n          - %s\n",
		localKMSKeyID, hex.EncodeToString(backing))
	if err := os.WriteFile(filepath.Join(dir, "seed.yaml"), []byte(seed), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "local-kms.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	l := &LocalKMS{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), Region: localKMSRegion,
		KeyARN: fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", localKMSRegion, localKMSAccount, localKMSKeyID),
		dir:    dir, exited: make(chan struct{})}
	l.cmd = exec.Command(bin)
	l.cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port), "KMS_REGION="+localKMSRegion,
		"KMS_ACCOUNT_ID="+localKMSAccount, "KMS_DATA_PATH="+filepath.Join(dir, "data"), "KMS_SEED_PATH="+filepath.Join(dir, "seed.yaml"))
	l.cmd.Stdout, l.cmd.Stderr = logf, logf
	if err := l.cmd.Start(); err != nil {
		logf.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%w: start local-kms: %v", ErrKMS, err)
	}
	go func() { _ = l.cmd.Wait(); logf.Close(); close(l.exited) }()
	if err := l.waitReady(ctx); err != nil {
		l.Close()
		return nil, err
	}
	if l.Proxy, err = StartDelayProxy(fmt.Sprintf("127.0.0.1:%d", port), delay); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func (l *LocalKMS) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-l.exited:
			return fmt.Errorf("%w: local-kms exited at start: %s", ErrKMS, tail(filepath.Join(l.dir, "local-kms.log")))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := client.Post(l.Endpoint, "application/x-amz-json-1.1", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: local-kms not answering on %s: %v", ErrKMS, l.Endpoint, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Close stops the proxy and local-kms and removes its data dir.
func (l *LocalKMS) Close() error {
	var errs []error
	if l.Proxy != nil {
		errs = append(errs, l.Proxy.Close())
	}
	if l.cmd.Process != nil {
		_ = l.cmd.Process.Kill()
		<-l.exited
	}
	errs = append(errs, os.RemoveAll(l.dir))
	return errors.Join(errs...)
}
