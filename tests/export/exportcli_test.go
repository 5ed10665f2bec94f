package export_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestCeremonyExportCLI: `mediaseal export` follows the playback rule.
// Without an approval it refuses customer-key recordings and (by default)
// platform-key ones without decrypting anything; with an approved
// recording.playback and a playback requester's token it exports through
// the gateway, once, audited; `mediaseal verify` needs no approval; once
// the quorum set the stored playback rule's platformPlayback false (a
// config file saying so is refused) a platform-key recording exports
// offline, audited in the same chain.
func TestCeremonyExportCLI(t *testing.T) {
	tg := gatewaytest.Start(t, gatewaytest.WithLocalCustomerKey(t))
	bin := gatewaytest.MediasealBinary(t)
	plat := tg.CreateCall("sales", "caller")
	gatewaytest.NewSender(t, plat.Tracks[0].RTP, 41, 440).SendRange(0, 25, 5*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	tg.End(plat)
	tg.WaitStored(plat.RecordingID)
	cust := tg.RecordCall(42)
	want, _ := tg.ExportTrack(plat.RecordingID, playback.FormatWAV, "caller")
	dir := t.TempDir()
	run := func(args ...string) (string, error) {
		out, err := exec.Command(bin, append([]string{"--data-dir", tg.Config().DataDir}, args...)...).CombinedOutput()
		return string(out), err
	}

	for id, what := range map[string]string{plat.RecordingID: "platformPlaybackQuorum is on", cust: "customer-key recording (local:cust)"} {
		out := filepath.Join(dir, id+".wav")
		msg, err := run("export", "--recording", id, "--format", "wav", "--out", out)
		if err == nil || !strings.Contains(msg, what) || !strings.Contains(msg, "--approval-id") {
			t.Fatalf("export of %s without approval: %v\n%s", id, err, msg)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatalf("a refused export left %s", out)
		}
		if msg, err := run("verify", "--recording", id); err != nil || !strings.Contains(msg, "COMPLETE") || !strings.Contains(msg, "tracks=caller:PCMU:RTP") {
			t.Fatalf("verify %s: %v\n%s", id, err, msg)
		}
	}

	requester := tg.Principal("playback-requester-1")
	tokFile := filepath.Join(dir, "playback.token")
	if err := os.WriteFile(tokFile, []byte(requester.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pid := gatewaytest.PlaybackApproved(tg, plat.RecordingID)
	out := filepath.Join(dir, "approved.wav")
	online := []string{"export", "--recording", plat.RecordingID, "--format", "wav", "--track", "caller", "--out", out,
		"--approval-id", pid, "--token-file", tokFile, "--api", tg.URL}
	// Another principal's token cannot use the requester's approval.
	ka1Tok := filepath.Join(dir, "ka1.token")
	os.WriteFile(ka1Tok, []byte(tg.Principal("key-admin-1").Token), 0o600)
	if msg, err := run(append(online[:len(online)-4:len(online)-4], "--token-file", ka1Tok, "--api", tg.URL)...); err == nil || !strings.Contains(msg, "403") {
		t.Fatalf("export with a key admin's token: %v\n%s", err, msg)
	}
	msg, err := run(online...)
	if err != nil || !strings.Contains(msg, "under approval "+pid) {
		t.Fatalf("approved export: %v\n%s", err, msg)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
		t.Fatalf("approved export differs from the gateway's (%d vs %d bytes)", len(got), len(want))
	}
	os.Remove(out)
	if msg, err := run(online...); err == nil || !strings.Contains(msg, "409") {
		t.Fatalf("approval replayed: %v\n%s", err, msg)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("a refused replay left a file")
	}

	// Platform-key playback without quorum: not because a config file
	// says so, only once the quorum changed the stored rule.
	cfgPath := filepath.Join(dir, "open.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf("dataDir: %s\nceremony: {platformPlaybackQuorum: false}\n", tg.Config().DataDir)), 0o600)
	offline := filepath.Join(dir, "offline.wav")
	if msg, err := exec.Command(bin, "-c", cfgPath, "export", "--recording", plat.RecordingID, "--format", "wav", "--out", offline).CombinedOutput(); err == nil ||
		!strings.Contains(string(msg), "ceremony.platformPlaybackQuorum is false but the shared store's rule is true") {
		t.Fatalf("offline export with a config laxer than the store: %v\n%s", err, msg)
	}
	gatewaytest.ChangeQuorumRule(t, tg, tg, approvals.OpPlayback, gatewaytest.PlaybackRule(2, false))
	if msg, err := exec.Command(bin, "-c", cfgPath, "export", "--recording", plat.RecordingID, "--format", "wav", "--out", offline).CombinedOutput(); err != nil {
		t.Fatalf("offline export of a platform-key recording: %v\n%s", err, msg)
	}
	if got, _ := os.ReadFile(offline); !bytes.Equal(got, want) {
		t.Fatal("offline export differs")
	}
	if msg, err := exec.Command(bin, "-c", cfgPath, "export", "--recording", cust, "--format", "wav", "--out", offline+"2").CombinedOutput(); err == nil {
		t.Fatalf("customer-key recording exported offline: %s", msg)
	}

	seen := gatewaytest.AuditSeen(tg.Principal("auditor-1"))
	for _, w := range []string{"recording.playback/playback-requester-1/success", "approval.executed/playback-requester-1/success",
		"approval.execute/playback-requester-1/refused"} {
		if !seen[w] {
			t.Errorf("audit log lacks %s", w)
		}
	}
	found := false
	for k := range seen {
		found = found || (strings.HasPrefix(k, "recording.export/cli:") && strings.HasSuffix(k, "/success"))
	}
	if !found {
		t.Error("audit log lacks the offline export")
	}
}
