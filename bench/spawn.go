package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// SpawnConfig says how to start a gateway of our own.
type SpawnConfig struct {
	Bin       string // the built mediaseal binary
	Dir       string // temp dir: config, data dir and log go here
	PortMin   int    // media port range for the sessions
	PortMax   int
	CPUs      string // taskset CPU list ("" = no pinning)
	DebugAddr string // pprof listener ("" = off)
	// FlushInterval of the recordings (default 1 s as in production).
	FlushInterval time.Duration
	// KMS, when set, binds the bench queue to a customer key in an AWS KMS
	// compatible server (local-kms behind the delaying proxy).
	KMS *SpawnKMS
	// AudioHook, when set, configures an AudioHook integration.
	AudioHook *SpawnAudioHook
}

// SpawnAudioHook is the AudioHook integration of an --ingest audiohook run.
type SpawnAudioHook struct {
	APIKey     string
	SecretFile string // the base64 client secret
}

// SpawnKMS is the customer key of a --kms-latency run.
type SpawnKMS struct {
	Endpoint string        // what the gateway dials (the proxy)
	Region   string        // the KMS region; org.region is set to it
	KeyARN   string        // providerKeyId
	Timeout  time.Duration // kms.timeout: above the injected latency
}

// Spawned is a gateway process the bench started.
type Spawned struct {
	Cmd        *exec.Cmd
	ConfigPath string
	DataDir    string
	LogPath    string
	API        string // http://127.0.0.1:port
	Token      string
	exited     chan error
}

// BuildGateway builds ./cmd/mediaseal of the module at root into out.
func BuildGateway(ctx context.Context, root, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/mediaseal")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: go build: %v\n%s", ErrSpawn, err, b)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// configYAML is the gateway config a spawned run uses: the embedded
// default's choices (fs storage, platform key, SQLite, 1 s flushes) with a
// private data dir, a media port range for the run, quiet logs and limits
// that do not get in a load test's way.
func (c SpawnConfig) configYAML(dataDir string, apiPort int) string {
	fi := c.FlushInterval
	if fi == 0 {
		fi = time.Second
	}
	region, kmsTimeout := "local", 5*time.Second
	if c.KMS != nil {
		region = c.KMS.Region
		if c.KMS.Timeout > 0 {
			kmsTimeout = c.KMS.Timeout
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `org: {id: bench, region: %s}
dataDir: %q
log: {level: warn, format: json}
api: {addr: "127.0.0.1:%d", shutdownTimeout: 300s}
media:
  bindAddr: 127.0.0.1
  portMin: %d
  portMax: %d
  inactivityTimeout: 10m
  maxSessions: 200000
recording: {flushInterval: %s}
storage: {type: fs}
store: {driver: sqlite}
`, region, dataDir, apiPort, c.PortMin, c.PortMax, fi)
	if c.DebugAddr != "" {
		fmt.Fprintf(&b, "debug: {addr: %q}\n", c.DebugAddr)
	}
	if a := c.AudioHook; a != nil {
		fmt.Fprintf(&b, "audiohook: {maxSessionsPerKey: 100000, idleTimeout: 60s, integrations: [{name: bench, apiKey: %q, clientSecretFile: %q}]}\n",
			a.APIKey, a.SecretFile)
	}
	if c.KMS != nil {
		c.KMS.writeYAML(&b, kmsTimeout)
		return b.String()
	}
	fmt.Fprintf(&b, "kms: {timeout: %s, platformKey: platform}\n", kmsTimeout)
	b.WriteString(`policies:
  - id: bench-record-all
    name: Record every bench call (platform key)
    recordingType: AUDIO
    encryptionKeyReference: {keyId: platform, providerType: PLATFORM}
    targetType: QUEUE
    targetIds: ["*"]
    status: ENABLED
    conditions: {direction: "", callerIdPattern: null, timeWindow: null}
`)
	return b.String()
}

// writeYAML adds the AWS KMS provider, the customer key and a policy
// binding the bench's queue to it; a KMS that does not answer within the
// timeout costs the platform key, never the media. The DEK pre-fetch pool
// is off: a slow-KMS run measures the path where each session waits on its
// KMS round trip, which a warm pool would hide.
func (k *SpawnKMS) writeYAML(b *strings.Builder, timeout time.Duration) {
	fmt.Fprintf(b, `kms:
  timeout: %s
  platformKey: platform
  pool: {enabled: false}
  aws: {enabled: true, region: %s, endpoint: %q, ciphertextFormat: local-kms, accessKeyId: bench, secretAccessKey: bench}
keys:
  - id: bench-cmk
    name: Bench customer key (local-kms)
    providerType: AWS_KMS
    providerKeyId: %q
    region: %s
policies:
  - id: bench-customer-key
    name: Record bench calls under the customer key
    recordingType: AUDIO
    encryptionKeyReference: {keyId: bench-cmk, providerType: AWS_KMS}
    targetType: QUEUE
    targetIds: [%s]
    status: ENABLED
    onKeyUnavailable: PLATFORM_KEY
    conditions: {direction: "", callerIdPattern: null, timeWindow: null}
`, timeout, k.Region, k.Endpoint, k.KeyARN, k.Region, benchQueue)
}

// Spawn writes a config, starts `mediaseal serve` and waits until the API
// answers and the ingest token exists.
func Spawn(ctx context.Context, c SpawnConfig) (*Spawned, error) {
	if _, err := os.Stat(c.Bin); err != nil {
		return nil, fmt.Errorf("%w: binary %s: %v (build it with `go build -o bin/mediaseal ./cmd/mediaseal`)", ErrSpawn, c.Bin, err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	sp := &Spawned{ConfigPath: filepath.Join(c.Dir, "mediaseal.yaml"), DataDir: filepath.Join(c.Dir, "data"),
		LogPath: filepath.Join(c.Dir, "gateway.log"), API: fmt.Sprintf("http://127.0.0.1:%d", port), exited: make(chan error, 1)}
	if err := os.WriteFile(sp.ConfigPath, []byte(c.configYAML(sp.DataDir, port)), 0o600); err != nil {
		return nil, err
	}
	if c.KMS != nil {
		if err := seedCeremony(ctx, sp.ConfigPath); err != nil {
			return nil, err
		}
	}
	// Not CommandContext: the gateway is stopped with SIGTERM so it
	// finishes its recordings, never killed by a cancelled context.
	if sp.Cmd, err = startDaemon([]string{c.Bin, "serve", "--config", sp.ConfigPath}, c.CPUs, sp.LogPath, sp.exited); err != nil {
		return nil, fmt.Errorf("%w: start: %v", ErrSpawn, err)
	}
	cl := NewClient(sp.API, "")
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-sp.exited:
			sp.exited <- err
			return nil, fmt.Errorf("%w: exited during start-up (%v); log: %s", ErrSpawn, err, tail(sp.LogPath))
		case <-ctx.Done():
			_ = sp.Stop(30 * time.Second)
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if cl.Healthy(ctx) {
			tok, err := os.ReadFile(filepath.Join(sp.DataDir, "ingest.token"))
			if err == nil {
				sp.Token = strings.TrimSpace(string(tok))
				return sp, nil
			}
		}
		if time.Now().After(deadline) {
			_ = sp.Stop(30 * time.Second)
			return nil, fmt.Errorf("%w: not healthy after 60 s; log: %s", ErrSpawn, tail(sp.LogPath))
		}
	}
}

// Pid is the gateway's process id (taskset execs it, so the pid holds).
func (sp *Spawned) Pid() int { return sp.Cmd.Process.Pid }

// Stop sends SIGTERM (the gateway finishes and drains its recordings) and
// waits up to timeout, then kills it.
func (sp *Spawned) Stop(timeout time.Duration) error {
	_ = sp.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-sp.exited:
		sp.exited <- err
		return err
	case <-time.After(timeout):
		_ = sp.Cmd.Process.Kill()
		err := <-sp.exited
		sp.exited <- err
		return errors.Join(fmt.Errorf("%w: did not stop within %s; killed", ErrSpawn, timeout), err)
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
