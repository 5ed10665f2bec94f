package cluster_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/controlplane"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// newSharedGateway is a `mediaseal serve` process whose control plane,
// object storage and platform keyring are shared with others (extra names
// them); its spool, tokens and API port are its own. Its only seeded
// policy records queue "sales".
func newSharedGateway(t *testing.T, name, extra string) *gatewaytest.GatewayProcess {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	pmin, pmax := gatewaytest.NextPorts()
	p := &gatewaytest.GatewayProcess{T: t, DataDir: filepath.Join(dir, "data"), Addr: gatewaytest.FreeAddr(t), CfgPath: filepath.Join(dir, "mediaseal.yaml")}
	cfg := fmt.Sprintf(`dataDir: %s
api: {addr: "%s", shutdownTimeout: 20s}
media: {portMin: %d, portMax: %d}
recording: {flushInterval: 200ms}
log: {format: json, level: info}
policies:
  - {id: sales, name: Sales, recordingType: AUDIO, targetIds: [sales]}
%s`, p.DataDir, p.Addr, pmin, pmax, extra)
	if err := os.WriteFile(p.CfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// recordCall records 50 packets (1 s) of a one-track call and ends it.
func recordCall(t *testing.T, tg *gatewaytest.Gateway, queue string, ssrc uint32) gatewaytest.Session {
	t.Helper()
	s := tg.CreateCall(queue, "caller")
	if !s.Recorded {
		t.Fatalf("call on queue %s not recorded: %+v", queue, s)
	}
	gatewaytest.NewSender(t, s.Tracks[0].RTP, ssrc, 440).SendRange(0, 50, 20*time.Millisecond)
	time.Sleep(150 * time.Millisecond)
	if sum := tg.End(s); sum.Status != "COMPLETE" || sum.Packets != 50 {
		t.Fatalf("summary %+v", sum)
	}
	return s
}

type indexList struct {
	Entities []struct {
		ID        string `json:"id"`
		QueueID   string `json:"queueId"`
		Status    string `json:"status"`
		GatewayID string `json:"gatewayId"`
		ObjectKey string `json:"objectKey"`
		Policy    struct {
			ID      string `json:"id"`
			Version int64  `json:"version"`
		} `json:"policy"`
	} `json:"entities"`
}

// TestTwoGatewaysSharePostgres runs two `mediaseal serve` processes on one
// PostgreSQL database, one recordings directory and one platform keyring.
// A policy created through gateway A's API applies to the next session on
// gateway B; both record calls into one index with distinct ids and
// gateway ids; each gateway's recordings export through the other.
func TestTwoGatewaysSharePostgres(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	shared := t.TempDir()
	extra := fmt.Sprintf(`store: {driver: postgres, dsn: "%s"}
storage: {type: fs, fs: {dir: %s}}
kms: {local: {dir: %s}}
ceremony: {adminToken: true, platformPlaybackQuorum: false} # admin calls use the admin token; platform-key recordings export offline (mediaseal export) without a quorum
`, dsn, filepath.Join(shared, "recordings"), filepath.Join(shared, "keyring"))
	a, b := newSharedGateway(t, "a", extra), newSharedGateway(t, "b", extra)
	a.Start()
	b.Start()

	if s := b.TG.CreateCall("support", "caller"); s.Recorded {
		t.Fatalf("queue support recorded before any policy covers it: %+v", s)
	} else {
		b.TG.End(s)
	}
	// The operator's path: `mediaseal policies apply` against A, with the
	// API address and admin token taken from A's config.
	polFile := filepath.Join(t.TempDir(), "support.yaml")
	if err := os.WriteFile(polFile, []byte(`id: support
name: Support queue
recordingType: AUDIO
encryptionKeyReference: {keyId: platform, providerType: PLATFORM}
targetIds: [support]
status: ENABLED
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(gatewaytest.MediasealBinary(t), "policies", "apply", "-f", polFile, "-c", a.CfgPath).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "policy support created (version 1)") {
		t.Fatalf("mediaseal policies apply on A: %v\n%s", err, out)
	}
	created := time.Now()
	// A applies it to its very next session; B within one refresh interval.
	sa := recordCall(t, a.TG, "support", 1)
	var sb gatewaytest.Session
	for {
		sb = b.TG.CreateCall("support", "caller")
		if sb.Recorded {
			break
		}
		b.TG.End(sb)
		if time.Since(created) > 3*controlplane.PolicyRefresh {
			t.Fatalf("gateway B still does not record queue support %v after the policy was created on A", time.Since(created))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("gateway B applied the policy %v after it was created on A", time.Since(created).Round(time.Millisecond))
	if sb.PolicyID != "support" || sa.PolicyID != "support" {
		t.Fatalf("policy ids: A %q, B %q", sa.PolicyID, sb.PolicyID)
	}
	gatewaytest.NewSender(t, sb.Tracks[0].RTP, 2, 440).SendRange(0, 50, 20*time.Millisecond)
	time.Sleep(150 * time.Millisecond)
	b.TG.End(sb)
	sa2 := recordCall(t, a.TG, "sales", 3)
	sb2 := recordCall(t, b.TG, "sales", 4)
	byGateway := map[string]*gatewaytest.GatewayProcess{sa.RecordingID: a, sa2.RecordingID: a, sb.RecordingID: b, sb2.RecordingID: b}

	// One index lists all four, each once, each COMPLETE, from either gateway.
	var idx indexList
	deadline := time.Now().Add(20 * time.Second)
	for {
		idx = indexList{}
		if code := b.Admin("GET", "/api/v2/recordings?status="+store.RecordingComplete, nil, &idx); code != http.StatusOK {
			t.Fatalf("list recordings on B: %d", code)
		}
		if len(idx.Entities) >= 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	gateways := map[*gatewaytest.GatewayProcess]string{}
	seen := map[string]bool{}
	for _, e := range idx.Entities {
		p, ok := byGateway[e.ID]
		if !ok || seen[e.ID] || e.ObjectKey == "" || e.GatewayID == "" {
			t.Fatalf("index entry %+v (ours %v, duplicate %v)", e, ok, seen[e.ID])
		}
		seen[e.ID] = true
		if g, ok := gateways[p]; ok && g != e.GatewayID {
			t.Fatalf("one gateway wrote two gateway ids: %s, %s", g, e.GatewayID)
		}
		gateways[p] = e.GatewayID
		if e.QueueID == "support" && (e.Policy.ID != "support" || e.Policy.Version != 1) {
			t.Fatalf("recording %s: policy %+v", e.ID, e.Policy)
		}
	}
	if len(seen) != 4 || gateways[a] == gateways[b] {
		t.Fatalf("index lists %d of 4 recordings; gateway ids A %q, B %q", len(seen), gateways[a], gateways[b])
	}
	var fromA indexList
	if a.Admin("GET", "/api/v2/recordings", nil, &fromA); len(fromA.Entities) != 4 {
		t.Fatalf("gateway A lists %d recordings, want 4", len(fromA.Entities))
	}

	// Each recording exports through the gateway that did not record it
	// (`mediaseal export` with the other gateway's config).
	for id, rec := range byGateway {
		other := a
		if rec == a {
			other = b
		}
		out := filepath.Join(t.TempDir(), id+".wav")
		cmd := exec.Command(gatewaytest.MediasealBinary(t), "export", "-c", other.CfgPath, "--recording", id, "--format", "wav", "--out", out)
		msg, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(msg), "chunks, verified against the index)") {
			t.Fatalf("export %s through the other gateway: %v\n%s", id, err, msg)
		}
		wav, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if pcm := gatewaytest.ParseWAV(t, wav).Samples[0]; len(pcm) != 50*160 {
			t.Fatalf("export %s: %d samples, want %d", id, len(pcm), 50*160)
		}
	}
	for _, p := range []*gatewaytest.GatewayProcess{a, b} {
		if err := p.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("SIGTERM: %v\n%s", err, p.Log)
		}
	}
}
