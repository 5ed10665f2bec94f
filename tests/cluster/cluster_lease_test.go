package cluster_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

type gatewaysList struct {
	Entities []struct {
		ID        string `json:"id"`
		State     string `json:"state"`
		ExpiredBy string `json:"expiredBy"`
		Orphaned  int64  `json:"recordingsAwaitingRecovery"`
	} `json:"entities"`
}

// TestClusterLeaseMarksDeadGatewayRecordings runs two `mediaseal serve`
// processes on one PostgreSQL database with gateway.leaseTTL 1s and
// SIGKILLs gateway A during a call. Within the lease (plus one renewal
// period) gateway B marks the call's recording awaiting recovery: it is
// listed by GET /api/v2/recordings?awaitingRecovery=true, GET
// /api/v2/gateways shows A EXPIRED by B with one recording, B's metric
// counts it and the audit log has gateway.lease_expired. A restarted with
// its id takes its lease back at once and recovers the recording; a third
// process started with B's id, while B lives, exits naming the id.
func TestClusterLeaseMarksDeadGatewayRecordings(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	shared := t.TempDir()
	extra := func(id string) string {
		return fmt.Sprintf(`store: {driver: postgres, dsn: "%s"}
storage: {type: fs, fs: {dir: %s}}
kms: {local: {dir: %s}}
ceremony: {adminToken: true}
gateway: {id: %s, leaseTTL: 1s}
`, dsn, filepath.Join(shared, "recordings"), filepath.Join(shared, "keyring"), id)
	}
	a, b := newSharedGateway(t, "a", extra("gw-a")), newSharedGateway(t, "b", extra("gw-b"))
	a.Start()
	b.Start()

	s := a.TG.CreateCall("sales", "caller")
	if !s.Recorded {
		t.Fatalf("call not recorded: %+v", s)
	}
	gatewaytest.NewSender(t, s.Tracks[0].RTP, 7, 440).SendRange(0, 50, 20*time.Millisecond)
	time.Sleep(400 * time.Millisecond) // two flush intervals: durable in A's spool
	var idx indexList
	if code := b.Admin("GET", "/api/v2/recordings?awaitingRecovery=true", nil, &idx); code != http.StatusOK || len(idx.Entities) != 0 {
		t.Fatalf("awaiting recovery while A lives: %d %+v", code, idx)
	}
	if err := a.Signal(syscall.SIGKILL); err == nil {
		t.Fatal("SIGKILL did not kill")
	}
	killed := time.Now()
	for {
		idx = indexList{}
		if code := b.Admin("GET", "/api/v2/recordings?awaitingRecovery=true", nil, &idx); code != http.StatusOK {
			t.Fatalf("list awaiting recovery on B: %d", code)
		}
		if len(idx.Entities) > 0 {
			break
		}
		// TTL 1 s, B sweeps every 333 ms: 1.33 s at worst, plus scheduling.
		if time.Since(killed) > 2500*time.Millisecond {
			t.Fatalf("B has not marked A's recording awaiting recovery %v after the kill", time.Since(killed))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("B marked A's recording awaiting recovery %v after the kill", time.Since(killed).Round(time.Millisecond))
	if e := idx.Entities[0]; len(idx.Entities) != 1 || e.ID != s.RecordingID || e.Status != store.RecordingActive || e.GatewayID != "gw-a" {
		t.Fatalf("awaiting recovery: %+v, want %s of gw-a", idx.Entities, s.RecordingID)
	}
	var gws gatewaysList
	if code := b.Admin("GET", "/api/v2/gateways", nil, &gws); code != http.StatusOK {
		t.Fatalf("GET /api/v2/gateways: %d", code)
	}
	states := map[string]string{}
	for _, g := range gws.Entities {
		states[g.ID] = g.State
		if g.ID == "gw-a" && (g.ExpiredBy != "gw-b" || g.Orphaned != 1) {
			t.Errorf("gw-a: %+v, want expired by gw-b with 1 recording", g)
		}
	}
	if states["gw-a"] != store.GatewayExpired || states["gw-b"] != store.GatewayLive {
		t.Fatalf("gateway states %v", states)
	}
	resp, err := gatewaytest.AuthGet(b.TG.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "mediaseal_cluster_recordings_awaiting_recovery_total 1\n") {
		t.Errorf("B's metrics do not count the recording:\n%s", gatewaytest.GrepLines(string(metrics), "mediaseal_cluster_"))
	}
	var events struct {
		Entities []struct {
			Actor   string         `json:"actor"`
			Target  string         `json:"target"`
			Details map[string]any `json:"details"`
		} `json:"entities"`
	}
	// B audits the expiry right after it marks the recordings (the sweep
	// writes the mark, counts it, then records the entry): give the entry
	// a moment to land.
	code := 0
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		code = b.Admin("GET", "/api/v2/audit/events?action=gateway.lease_expired", nil, &events)
		if code != http.StatusOK || len(events.Entities) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if code != http.StatusOK || len(events.Entities) != 1 || events.Entities[0].Target != "gateway gw-a" ||
		!strings.Contains(fmt.Sprint(events.Entities[0].Details["recordingsAwaitingRecovery"]), s.RecordingID) {
		t.Errorf("audit gateway.lease_expired: %d %+v", code, events)
	}

	// A restarted with its id: the lease is free (EXPIRED), recovery runs
	// before the API listens.
	restarted := time.Now()
	a.Start()
	if d := time.Since(restarted); d > 10*time.Second {
		t.Errorf("restart took %v", d)
	}
	var rec struct {
		Status string `json:"status"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code := b.Admin("GET", "/api/v2/recordings/"+s.RecordingID, nil, &rec); code == http.StatusOK && rec.Status == store.RecordingRecovered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recording after A's restart: %+v", rec)
		}
		time.Sleep(50 * time.Millisecond)
	}
	idx = indexList{}
	if code := b.Admin("GET", "/api/v2/recordings?awaitingRecovery=true", nil, &idx); code != http.StatusOK || len(idx.Entities) != 0 {
		t.Fatalf("still awaiting recovery after A recovered it: %d %+v", code, idx)
	}
	gws = gatewaysList{}
	b.Admin("GET", "/api/v2/gateways", nil, &gws)
	for _, g := range gws.Entities {
		if g.ID == "gw-a" && g.State != store.GatewayLive {
			t.Fatalf("gw-a after restart: %+v", g)
		}
	}

	// A second live gateway with B's id is refused, naming the id.
	dup := newSharedGateway(t, "dup", extra("gw-b"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, gatewaytest.MediasealBinary(t), "serve", "-c", dup.CfgPath).CombinedOutput()
	if err == nil || ctx.Err() != nil || !strings.Contains(string(out), `gateway.id "gw-b" is in use by a live gateway`) {
		t.Fatalf("duplicate gateway id: %v (ctx %v)\n%s", err, ctx.Err(), out)
	}
	if err := b.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("B after the duplicate: %v\n%s", err, b.Log)
	}
}

// TestClusterRestartAfterKillNoLeaseWait: a gateway SIGKILLed and
// restarted on its data dir (default leaseTTL 15 s) takes its unexpired
// lease over at once: the spool lock proves its previous instance dead.
func TestClusterRestartAfterKillNoLeaseWait(t *testing.T) {
	p := gatewaytest.NewGatewayProcess(t, "")
	p.Start()
	if err := p.Signal(syscall.SIGKILL); err == nil {
		t.Fatal("SIGKILL did not kill")
	}
	began := time.Now()
	p.Start()
	d := time.Since(began)
	if err := p.Signal(syscall.SIGTERM); err != nil { // the log is complete once it exited
		t.Fatalf("SIGTERM exit: %v\n%s", err, p.Log)
	}
	if d > 5*time.Second || strings.Contains(p.Log.String(), "waiting for the lease") {
		t.Fatalf("restart took %v:\n%s", d, p.Log)
	}
}
