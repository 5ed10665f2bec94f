package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/policy"
)

// keyDelay is the veto delay of key.disable and key.delete in these tests,
// and keySweep the gateway's approval sweep interval.
const (
	keyDelay = 400 * time.Millisecond
	keySweep = config.Duration(50 * time.Millisecond)
)

// startKeyGateway runs a gateway whose queue "pci" (PLATFORM_KEY) and
// queue "closed" (FAIL_CLOSED) record under the customer key "cust-key"
// (keyring key "cust"), registered and bound in the key registry.
func startKeyGateway(t *testing.T) (*testGateway, *principal, *principal, *principal) {
	base := withLocalCustomerKey(t)
	tg := startGateway(t, func(c *config.Config) {
		base(c)
		sweep := keySweep
		c.Ceremony.SweepInterval = &sweep
		closed := policy.Policy{ID: "pci-closed", Name: "PCI fail closed", RecordingType: policy.RecordingAudio,
			EncryptionKeyReference: &policy.KeyReference{KeyID: "cust-key", ProviderType: policy.ProviderPlatform},
			TargetIDs:              []string{"closed"}, OnKeyUnavailable: policy.OnKeyUnavailableFailClosed}
		closed.Normalize()
		c.Policies = append(c.Policies, closed)
		ceremonyDone(t, c, nil, closed)
	}, WithApprovals(approvalsWithDelay(keyDelay)))
	ka1, ka2, auditor := tg.principal("key-admin-1"), tg.principal("key-admin-2"), tg.principal("auditor-1")
	return tg, ka1, ka2, auditor
}

// approved returns a proposal of ka1 approved by ka2.
func approved(ka1, ka2 *principal, op, target string) string {
	id, digest := ka1.propose(op, target, nil, "test "+op)
	ka2.must(200, "POST", "/api/v2/approvals/"+id+"/approve", map[string]any{"digest": digest})
	return id
}

// auditSeen lists every audit event as "action/actor/outcome" (and with
// "/reason" when the details carry one), read through the API.
func auditSeen(auditor *principal) map[string]bool {
	seen := map[string]bool{}
	after := "0"
	for {
		m := auditor.must(200, "GET", "/api/v2/audit/events?limit=100&after="+after, nil)
		for _, e := range m["entities"].([]any) {
			ev := e.(map[string]any)
			k := fmt.Sprint(ev["action"], "/", ev["actor"], "/", ev["outcome"])
			seen[k] = true
			if d, ok := ev["details"].(map[string]any); ok && d["reason"] != nil {
				seen[fmt.Sprint(k, "/", d["reason"])] = true
			}
		}
		if m["nextAfter"] == nil {
			return seen
		}
		after = fmt.Sprint(m["nextAfter"])
	}
}

// TestCeremonyKeyDisable: an approved key.disable is SCHEDULED; when its
// delay is over the gateway executes it itself (its proposer cannot),
// disabling the key in its provider and the registry, audited with the
// approver as the actor; new sessions stop using it at once: the
// FAIL_CLOSED policy records nothing, the PLATFORM_KEY policy falls back
// to the platform key, both audited. A scheduled disable of the platform
// key FAILS, and the key stays enabled.
func TestCeremonyKeyDisable(t *testing.T) {
	tg, ka1, ka2, auditor := startKeyGateway(t)
	ctx := context.Background()
	before := tg.recordCall(21)
	if rec, _ := tg.index.GetRecording(ctx, before); rec.KeyID != "cust" || rec.Fallback {
		t.Fatalf("before the disable: key %s fallback %v", rec.KeyID, rec.Fallback)
	}

	id := approved(ka1, ka2, "key.disable", "cust-key")
	if m := ka1.must(200, "GET", "/api/v2/approvals/"+id, nil); m["status"] != store.ApprovalScheduled || m["executesAt"] == nil {
		t.Fatalf("approved disable: %v", m)
	}
	// The gateway executes it, not its proposer (before or after the delay).
	ka1.must(409, "POST", "/api/v2/keys/cust-key/disable", nil, api.HeaderApproval, id)
	m := waitApproval(ka1, id, store.ApprovalExecuted, keyDelay+10*time.Second)
	t.Logf("scheduled disable executed %v after its executesAt by %v", lateness(t, m), m["executedBy"])
	if m := ka1.must(200, "GET", "/api/v2/keys/cust-key", nil); m["keyState"] != "DISABLED" {
		t.Fatalf("key after the scheduled disable: %v", m)
	}
	custRef := kms.KeyRef{Provider: providerLocal, KeyID: "cust"}
	if info, err := tg.keyring.Describe(ctx, custRef); err != nil || info.State != kms.StateDisabled {
		t.Fatalf("keyring state after the disable: %+v %v", info, err)
	}
	if _, err := tg.Export(ctx, before, FormatWAV, "", &bytes.Buffer{}); !errors.Is(err, kms.ErrDisabled) {
		t.Fatalf("export under a disabled key: %v", err)
	}

	closed := tg.createCall("closed", "caller")
	waitKeyState(t, tg, closed, media.KeyFailed, 5*time.Second)
	if sum := tg.end(closed); sum.Status != media.KeyFailed || sum.SealedBytes != 0 {
		t.Fatalf("FAIL_CLOSED call on a disabled key: %+v", sum)
	}
	// The registry alone stops new sessions, even if the KMS is re-enabled
	// behind the ceremony's back (or another gateway's provider still
	// answers).
	if err := tg.keyring.Enable(ctx, custRef); err != nil {
		t.Fatal(err)
	}
	closed = tg.createCall("closed", "caller")
	waitKeyState(t, tg, closed, media.KeyFailed, 5*time.Second)
	tg.end(closed)
	fb := tg.createCall("pci", "caller")
	waitKeyState(t, tg, fb, media.KeyFallback, 5*time.Second)
	newSender(t, fb.Tracks[0].RTP, 22, 440).sendRange(0, 25, 5*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	if sum := tg.end(fb); sum.Status != "COMPLETE" {
		t.Fatalf("PLATFORM_KEY call on a disabled key: %+v", sum)
	}
	tg.waitStored(fb.RecordingID)
	if rec, _ := tg.index.GetRecording(ctx, fb.RecordingID); rec.KeyID != tg.cfg.KMS.PlatformKey || !rec.Fallback {
		t.Fatalf("fallback recording under %s (fallback %v)", rec.KeyID, rec.Fallback)
	}
	if _, res := tg.export(fb.RecordingID, FormatWAV, "caller"); res.Tracks[0].Media != 25 {
		t.Fatalf("fallback recording exports %+v", res.Tracks[0])
	}

	// The platform key is every policy's fallback: never disabled.
	ka1.must(201, "POST", "/api/v2/keys", map[string]any{"id": "plat", "name": "Platform", "keyType": "PLATFORM",
		"label": tg.cfg.KMS.PlatformKey, "region": tg.cfg.Org.Region})
	pid := approved(ka1, ka2, "key.disable", "plat")
	if m := waitApproval(ka1, pid, store.ApprovalFailed, keyDelay+10*time.Second); !strings.Contains(fmt.Sprint(m["lastError"]), "platform key") {
		t.Fatalf("platform key disable: %v", m)
	}
	if m := ka1.must(200, "GET", "/api/v2/keys/plat", nil); m["keyState"] != "ENABLED" {
		t.Fatalf("platform key after a failed disable: %v", m)
	}
	if info, err := tg.keyring.Describe(ctx, kms.KeyRef{Provider: providerLocal, KeyID: tg.cfg.KMS.PlatformKey}); err != nil || info.State != kms.StateEnabled {
		t.Fatalf("platform key %+v %v", info, err)
	}

	seen := auditSeen(auditor)
	for _, want := range []string{
		"key.disabled/key-admin-2/success", "approval.executed/key-admin-2/success",
		"recording.key_fail_closed/system/failure/disabled", "recording.key_fallback/system/success/disabled",
		"key.disable.failed/key-admin-2/failure", "approval.failed/key-admin-2/failure",
	} {
		if !seen[want] {
			t.Errorf("audit log lacks %s", want)
		}
	}
}

// TestCeremonyKeyDelete: an approved key.delete is SCHEDULED; a veto
// during its delay stops it (the key and its recordings stay usable);
// without a veto the gateway executes it itself when the delay is over,
// crypto-shredding every recording under the key, audited with the
// approver as the actor; a veto after that is refused.
func TestCeremonyKeyDelete(t *testing.T) {
	tg, ka1, ka2, auditor := startKeyGateway(t)
	ctx := context.Background()
	ids := []string{tg.recordCall(31), tg.recordCall(32)}

	vetoed := approved(ka1, ka2, "key.delete", "cust-key")
	ka1.must(409, "POST", "/api/v2/keys/cust-key/deletion", nil, api.HeaderApproval, vetoed) // the gateway executes it
	auditor.must(200, "POST", "/api/v2/approvals/"+vetoed+"/veto", map[string]any{"reason": "legal hold on these calls"})
	time.Sleep(keyDelay + 10*time.Duration(keySweep)) // several sweeps after it would have run
	if m := ka1.must(200, "GET", "/api/v2/approvals/"+vetoed, nil); m["status"] != store.ApprovalVetoed || m["executedAt"] != nil {
		t.Fatalf("vetoed deletion: %v", m)
	}
	ka1.must(409, "POST", "/api/v2/keys/cust-key/deletion", nil, api.HeaderApproval, vetoed)
	if m := ka1.must(200, "GET", "/api/v2/keys/cust-key", nil); m["keyState"] != "ENABLED" {
		t.Fatalf("vetoed deletion ran: %v", m)
	}
	for _, id := range ids {
		tg.export(id, FormatWAV, "caller") // still readable
	}

	id := approved(ka1, ka2, "key.delete", "cust-key")
	m := waitApproval(ka1, id, store.ApprovalExecuted, keyDelay+10*time.Second)
	t.Logf("scheduled deletion executed %v after its executesAt by %v", lateness(t, m), m["executedBy"])
	auditor.must(409, "POST", "/api/v2/approvals/"+id+"/veto", map[string]any{"reason": "too late"})
	if m := ka1.must(200, "GET", "/api/v2/keys/cust-key", nil); m["keyState"] != KeyStateDestroyed {
		t.Fatalf("key after the scheduled deletion: %v", m)
	}
	checkShreddedEverywhere(t, tg, ids)
	if _, err := tg.keyring.Describe(ctx, kms.KeyRef{Provider: providerLocal, KeyID: "cust"}); !errors.Is(err, kms.ErrNotFound) {
		t.Fatalf("destroyed key still described: %v", err)
	}
	// New sessions on a destroyed key fall back (PLATFORM_KEY) at once.
	s := tg.createCall("pci", "caller")
	waitKeyState(t, tg, s, media.KeyFallback, 5*time.Second)
	tg.end(s)

	seen := auditSeen(auditor)
	for _, want := range []string{
		"approval.vetoed/auditor-1/success", "key.deleted/key-admin-2/success", "approval.executed/key-admin-2/success",
		"key_shredded/key-admin-2/success", "approval.veto/auditor-1/refused",
	} {
		if !seen[want] {
			t.Errorf("audit log lacks %s", want)
		}
	}
	if rec, _ := tg.index.GetRecording(ctx, ids[0]); rec.Status != store.RecordingShredded {
		t.Fatalf("index status %s", rec.Status)
	}
}

// playbackApproved gets recording id approved for playback (requester
// proposes, two key admins approve) and returns the approval id.
func playbackApproved(tg *testGateway, id string) string {
	requester := tg.principal("playback-requester-1")
	pid, digest := requester.propose("recording.playback", id, nil, "dispute")
	for _, a := range []string{"key-admin-1", "key-admin-2"} {
		tg.principal(a).must(200, "POST", "/api/v2/approvals/"+pid+"/approve", map[string]any{"digest": digest})
	}
	return pid
}

// playback plays recording id back as format through the API under a
// fresh approval and returns the Content-Type and the body.
func playback(tg *testGateway, id, format string) (string, []byte) {
	tg.t.Helper()
	pid := playbackApproved(tg, id)
	req, _ := http.NewRequest("GET", tg.url+"/api/v2/recordings/"+id+"/media?format="+format, nil)
	req.Header.Set("Authorization", "Bearer "+tg.principal("playback-requester-1").token)
	req.Header.Set(api.HeaderApproval, pid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tg.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		tg.t.Fatalf("playback %s as %s: %d %s", id, format, resp.StatusCode, b)
	}
	return resp.Header.Get("Content-Type"), b
}

// TestJobsAuditInChain: rotation and re-encryption job events land in the
// hash-chained audit log and show in GET /api/v2/audit/events.
func TestJobsAuditInChain(t *testing.T) {
	tg, ka1, _, auditor := startKeyGateway(t)
	tg.recordCall(51)
	if m := ka1.must(200, "POST", "/api/v2/keys/cust-key/rotate", nil); m["version"] != "v2" {
		t.Fatalf("rotate: %v", m)
	}
	j := ka1.must(202, "POST", "/api/v2/recordings/reencrypt", map[string]any{"policyIds": []string{"pci"}, "targetKeyVersion": "v2", "dryRun": true})
	deadline := time.Now().Add(20 * time.Second)
	for !store.JobFinal(fmt.Sprint(j["status"])) {
		if time.Now().After(deadline) {
			t.Fatalf("job %v", j)
		}
		time.Sleep(20 * time.Millisecond)
		j = ka1.must(200, "GET", "/api/v2/recordings/reencrypt/"+fmt.Sprint(j["id"]), nil)
	}
	// The runner audits the end just after it stores the final status.
	want := []string{"key_rotated/key-admin-1/success", "reencryption_job_started/key-admin-1/success",
		"reencryption_job_completed/key-admin-1/success"}
	seen := auditSeen(auditor)
	for end := time.Now().Add(5 * time.Second); !seen[want[2]] && time.Now().Before(end); seen = auditSeen(auditor) {
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range want {
		if !seen[want] {
			t.Errorf("audit log lacks %s: %v", want, seen)
		}
	}
	// The chain holds them: it verifies.
	tg.shutdown()
	if out, err := exec.Command(mediasealBinary(t), "audit", "verify", "--data-dir", tg.cfg.DataDir).CombinedOutput(); err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
}

// TestCeremonyConfigWiring: the ceremony section of the config decides
// the bootstrap, the admin token and the quorum rules.
func TestCeremonyConfigWiring(t *testing.T) {
	off := false
	tg := startGateway(t, func(c *config.Config) { c.Ceremony.BootstrapPrincipals, c.Ceremony.AdminToken = &off, &off })
	if code := tg.admin("GET", "/api/v2/keys", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("admin token with ceremony.adminToken false: %d", code)
	}
	if _, err := os.Stat(filepath.Join(tg.cfg.DataDir, "credentials")); !os.IsNotExist(err) {
		t.Fatalf("credentials written with ceremony.bootstrapPrincipals false: %v", err)
	}

	tg = startGateway(t, func(c *config.Config) {
		c.Ceremony.Quorum = map[string]config.QuorumRule{"recording.playback": {Approvals: 3}}
	})
	if code := tg.admin("GET", "/api/v2/keys", nil, nil); code != http.StatusOK {
		t.Fatalf("admin token when on: %d", code)
	}
	s := tg.createCall("sales", "caller")
	tg.end(s)
	pid, digest := tg.principal("playback-requester-1").propose("recording.playback", s.RecordingID, nil, "dispute")
	var m map[string]any
	for _, a := range []string{"key-admin-1", "key-admin-2", "policy-admin-1"} {
		m = tg.principal(a).must(200, "POST", "/api/v2/approvals/"+pid+"/approve", map[string]any{"digest": digest})
		if a == "key-admin-2" && m["status"] != "PENDING" {
			t.Fatalf("2 of 3 approvals: %v", m)
		}
	}
	if m["status"] != "APPROVED" {
		t.Fatalf("3 of 3 approvals: %v", m)
	}
}
