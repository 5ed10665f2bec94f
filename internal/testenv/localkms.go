package testenv

import (
	"crypto/rand"
	"encoding/hex"
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
)

// Default identity of a started local-kms.
const (
	LocalKMSRegion  = "eu-west-2"
	LocalKMSAccount = "111122223333"
)

// SeedKey is one AES key in a local-kms seed file. BackingKeys are the
// key versions, oldest first (hex, 32 bytes each); more than one simulates
// a key that has been rotated.
type SeedKey struct {
	ID          string
	BackingKeys []string
}

// LocalKMS is a running local-kms process bound to a loopback port.
type LocalKMS struct {
	Endpoint string // http://127.0.0.1:port
	Region   string
	Account  string

	t    testing.TB
	bin  string
	port string

	mu   sync.Mutex
	cmd  *exec.Cmd
	keys []SeedKey
	done chan struct{}
}

// LocalKMSBinary returns the path of the local-kms binary, installing it
// with scripts/install-local-kms.sh when absent.
func LocalKMSBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(RepoRoot(t), ".tools", "bin", "local-kms")
	if _, err := os.Stat(bin); err != nil {
		runScript(t, "install-local-kms.sh")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("testenv: local-kms not found at %s after scripts/install-local-kms.sh", bin)
	}
	return bin
}

// StartLocalKMS starts local-kms on a free loopback port with its own data
// directory and a seed file declaring keys. It is killed at test end.
func StartLocalKMS(t testing.TB, keys ...SeedKey) *LocalKMS {
	t.Helper()
	l := &LocalKMS{
		Region:  LocalKMSRegion,
		Account: LocalKMSAccount,
		t:       t,
		bin:     LocalKMSBinary(t),
		port:    freePort(t),
		keys:    keys,
	}
	l.Endpoint = "http://127.0.0.1:" + l.port
	l.start()
	t.Cleanup(l.kill)
	return l
}

// ARN returns the ARN local-kms gives the key with id.
func (l *LocalKMS) ARN(id string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", l.Region, l.Account, id)
}

// PID is the process id of the running local-kms.
func (l *LocalKMS) PID() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cmd.Process.Pid
}

// Pause stops the process with SIGSTOP: connections hang, as with a KMS
// that is unreachable or overloaded. Resume undoes it.
func (l *LocalKMS) Pause() {
	l.t.Helper()
	pid := l.PID()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		l.t.Fatalf("testenv: SIGSTOP local-kms: %v", err)
	}
	// The signal is delivered asynchronously: wait until every thread is
	// stopped, or a request sent right after Pause may still be served.
	deadline := time.Now().Add(5 * time.Second)
	for !allStopped(pid) {
		if time.Now().After(deadline) {
			l.t.Fatalf("testenv: local-kms (pid %d) did not stop", pid)
		}
		time.Sleep(time.Millisecond)
	}
}

// allStopped reports whether every thread of pid is in state T (stopped).
func allStopped(pid int) bool {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			return false
		}
		// Format: pid (comm) state ...; comm may contain spaces.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
			return false
		}
	}
	return true
}

// Resume continues a paused local-kms (SIGCONT).
func (l *LocalKMS) Resume() {
	l.t.Helper()
	if err := syscall.Kill(l.PID(), syscall.SIGCONT); err != nil {
		l.t.Fatalf("testenv: SIGCONT local-kms: %v", err)
	}
}

// RotateSeeded simulates a rotation of the seeded key id: local-kms cannot
// rotate on demand, so it is restarted on the same port with a fresh data
// directory whose seed gives that key one more backing key. Ciphertexts
// made before keep unwrapping (same ARN, same earlier versions). Keys
// created through the API since start are lost; seeded keys are kept.
func (l *LocalKMS) RotateSeeded(id string) {
	l.t.Helper()
	l.mu.Lock()
	found := false
	for i := range l.keys {
		if l.keys[i].ID == id {
			l.keys[i].BackingKeys = append(l.keys[i].BackingKeys, RandomHexKey(l.t))
			found = true
		}
	}
	l.mu.Unlock()
	if !found {
		l.t.Fatalf("testenv: RotateSeeded: key %s is not seeded", id)
	}
	l.kill()
	l.start()
}

// RandomHexKey returns 32 random bytes, hex encoded, for a seed file.
func RandomHexKey(t testing.TB) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func (l *LocalKMS) start() {
	t := l.t
	t.Helper()
	dir, err := os.MkdirTemp("", "local-kms-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	seed := filepath.Join(dir, "seed.yaml")
	l.mu.Lock()
	if err := os.WriteFile(seed, []byte(seedYAML(l.keys)), 0o600); err != nil {
		l.mu.Unlock()
		t.Fatal(err)
	}
	cmd := exec.Command(l.bin)
	cmd.Env = append(os.Environ(),
		"PORT="+l.port,
		"KMS_REGION="+l.Region,
		"KMS_ACCOUNT_ID="+l.Account,
		"KMS_DATA_PATH="+filepath.Join(dir, "data"),
		"KMS_SEED_PATH="+seed,
	)
	logf, err := os.Create(filepath.Join(dir, "local-kms.log"))
	if err != nil {
		l.mu.Unlock()
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		l.mu.Unlock()
		t.Fatalf("testenv: start local-kms: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	l.cmd, l.done = cmd, done
	l.mu.Unlock()

	// Wait until it answers HTTP (any status).
	deadline := time.Now().Add(15 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "local-kms.log"))
			t.Fatalf("testenv: local-kms exited at start:\n%s", log)
		default:
		}
		resp, err := client.Post(l.Endpoint, "application/x-amz-json-1.1", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: local-kms not answering on %s: %v", l.Endpoint, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill stops the process (resuming it first if paused) and waits for it.
func (l *LocalKMS) kill() {
	l.mu.Lock()
	cmd, done := l.cmd, l.done
	l.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT)
	_ = cmd.Process.Kill()
	<-done
}

func seedYAML(keys []SeedKey) string {
	var b strings.Builder
	b.WriteString("Keys:\n  Symmetric:\n    Aes:\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "      - Metadata:\n          KeyId: %s\n", k.ID)
		b.WriteString("        BackingKeys:\n")
		for _, bk := range k.BackingKeys {
			fmt.Fprintf(&b, "          - %s\n", bk)
		}
	}
	return b.String()
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
