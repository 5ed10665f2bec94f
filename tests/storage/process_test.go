package storage_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestCrashRecovery kills the gateway with SIGKILL mid-call: after a
// restart the recording is RECOVERED and exports everything up to the last
// flushed chunk (at most one flush interval lost).
func TestCrashRecovery(t *testing.T) {
	p := gatewaytest.NewGatewayProcess(t, "")
	p.Start()
	s := p.TG.CreateCall("q", "caller")
	snd := gatewaytest.NewSender(t, s.Tracks[0].RTP, 99, 440)
	snd.SendRange(0, 100, 20*time.Millisecond) // 2 s
	time.Sleep(400 * time.Millisecond)         // two flush intervals: everything sent is durable
	if err := p.Signal(syscall.SIGKILL); err == nil {
		t.Fatal("SIGKILL did not kill")
	}
	p.Start() // recovery runs before the API listens
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM exit: %v\n%s", err, p.Log)
	}
	g := p.Offline()
	rec := gatewaytest.WaitIndexStatus(t, g, s.RecordingID, store.RecordingRecovered)
	if rec.Chunks < 2 {
		t.Fatalf("recovered with %d chunks", rec.Chunks)
	}
	var buf bytes.Buffer
	res, err := g.Playback().Export(context.Background(), s.RecordingID, playback.FormatWAV, "caller", playback.Options{}, &buf)
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
	p := gatewaytest.NewGatewayProcess(t, "")
	p.Start()
	s := p.TG.CreateCall("q", "caller", "agent")
	a := gatewaytest.NewSender(t, s.Tracks[0].RTP, 1, 440)
	b := gatewaytest.NewSender(t, s.Tracks[1].RTP, 2, 660)
	for i := 0; i < 50; i++ {
		a.Send(a.Packet(i))
		b.Send(b.Packet(i))
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.Log)
	}
	g := p.Offline()
	rec := gatewaytest.WaitIndexStatus(t, g, s.RecordingID, store.RecordingComplete)
	if rec.ObjectKey == "" || rec.SHA256 == "" {
		t.Fatalf("index %+v", rec)
	}
	if _, ok := g.Spool().Find(s.RecordingID); ok {
		t.Fatal("recording left in the spool after a graceful shutdown")
	}
	var buf bytes.Buffer
	res, err := g.Playback().Export(context.Background(), s.RecordingID, playback.FormatWAVStereo, "", playback.Options{}, &buf)
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
		out, err := exec.Command(gatewaytest.MediasealBinary(t), "serve", "-c", path, "--data-dir", dir).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Fatalf("config %q: err %v, output %q, want %q", c.yaml, err, out, c.want)
		}
	}
}
