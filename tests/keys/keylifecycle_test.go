package keys_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/controlplane"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/gateway"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
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
func startKeyGateway(t *testing.T) (*gatewaytest.Gateway, *gatewaytest.Principal, *gatewaytest.Principal, *gatewaytest.Principal) {
	base := gatewaytest.WithLocalCustomerKey(t)
	tg := gatewaytest.Start(t, func(c *config.Config) {
		base(c)
		sweep := keySweep
		c.Ceremony.SweepInterval = &sweep
		closed := policy.Policy{ID: "pci-closed", Name: "PCI fail closed", RecordingType: policy.RecordingAudio,
			EncryptionKeyReference: &policy.KeyReference{KeyID: "cust-key", ProviderType: policy.ProviderPlatform},
			TargetIDs:              []string{"closed"}, OnKeyUnavailable: policy.OnKeyUnavailableFailClosed}
		closed.Normalize()
		c.Policies = append(c.Policies, closed)
		gatewaytest.CeremonyDone(t, c, nil, closed)
	}, gateway.WithApprovals(gatewaytest.ApprovalsWithDelay(keyDelay)))
	ka1, ka2, auditor := tg.Principal("key-admin-1"), tg.Principal("key-admin-2"), tg.Principal("auditor-1")
	return tg, ka1, ka2, auditor
}

// TestCeremonyKeyDisable: an approved key.disable is SCHEDULED; when its
// delay is over the gateway executes it itself (its proposer cannot),
// disabling the key in its provider and the registry, audited with the
// approver as the actor; the DEKs pooled under it are wiped within a
// catalog refresh and not refilled; new sessions stop using it at once: the
// FAIL_CLOSED policy records nothing, the PLATFORM_KEY policy falls back
// to the platform key, both audited. A scheduled disable of the platform
// key FAILS, and the key stays enabled.
func TestCeremonyKeyDisable(t *testing.T) {
	tg, ka1, ka2, auditor := startKeyGateway(t)
	ctx := context.Background()
	before := tg.RecordCall(21)
	if rec, _ := tg.Store().GetRecording(ctx, before); rec.KeyID != "cust" || rec.Fallback {
		t.Fatalf("before the disable: key %s fallback %v", rec.KeyID, rec.Fallback)
	}
	custRef := kms.KeyRef{Provider: local.ProviderName, KeyID: "cust"}
	waitPoolLen(t, tg, custRef, "full", func(n int) bool { return n > 0 }, 10*time.Second)

	id := gatewaytest.Approved(ka1, ka2, "key.disable", "cust-key")
	if m := ka1.Must(200, "GET", "/api/v2/approvals/"+id, nil); m["status"] != store.ApprovalScheduled || m["executesAt"] == nil {
		t.Fatalf("approved disable: %v", m)
	}
	// The gateway executes it, not its proposer (before or after the delay).
	ka1.Must(409, "POST", "/api/v2/keys/cust-key/disable", nil, api.HeaderApproval, id)
	m := gatewaytest.WaitApproval(ka1, id, store.ApprovalExecuted, keyDelay+10*time.Second)
	t.Logf("scheduled disable executed %v after its executesAt by %v", gatewaytest.Lateness(t, m), m["executedBy"])
	if m := ka1.Must(200, "GET", "/api/v2/keys/cust-key", nil); m["keyState"] != "DISABLED" {
		t.Fatalf("key after the scheduled disable: %v", m)
	}
	if info, err := tg.Keyring().Describe(ctx, custRef); err != nil || info.State != kms.StateDisabled {
		t.Fatalf("keyring state after the disable: %+v %v", info, err)
	}
	// The DEKs pooled under it are wiped within a catalog refresh: no
	// plaintext of a key no session may use waits in memory.
	waitPoolLen(t, tg, custRef, "empty", func(n int) bool { return n == 0 }, controlplane.PolicyRefresh+time.Second)
	if _, err := tg.Export(ctx, before, playback.FormatWAV, "", &bytes.Buffer{}); !errors.Is(err, kms.ErrDisabled) {
		t.Fatalf("export under a disabled key: %v", err)
	}

	closed := tg.CreateCall("closed", "caller")
	waitKeyState(t, tg, closed, media.KeyFailed, 5*time.Second)
	if sum := tg.End(closed); sum.Status != media.KeyFailed || sum.SealedBytes != 0 {
		t.Fatalf("FAIL_CLOSED call on a disabled key: %+v", sum)
	}
	// The registry alone stops new sessions, even if the KMS is re-enabled
	// behind the ceremony's back (or another gateway's provider still
	// answers).
	if err := tg.Keyring().Enable(ctx, custRef); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // a refilling pool would hold DEKs again by now
	if n := tg.Broker().PoolLen(custRef); n != 0 {
		t.Fatalf("the pool of the disabled key refilled to %d DEKs once the KMS granted them", n)
	}
	closed = tg.CreateCall("closed", "caller")
	waitKeyState(t, tg, closed, media.KeyFailed, 5*time.Second)
	tg.End(closed)
	fb := tg.CreateCall("pci", "caller")
	waitKeyState(t, tg, fb, media.KeyFallback, 5*time.Second)
	gatewaytest.NewSender(t, fb.Tracks[0].RTP, 22, 440).SendRange(0, 25, 5*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	if sum := tg.End(fb); sum.Status != "COMPLETE" {
		t.Fatalf("PLATFORM_KEY call on a disabled key: %+v", sum)
	}
	tg.WaitStored(fb.RecordingID)
	if rec, _ := tg.Store().GetRecording(ctx, fb.RecordingID); rec.KeyID != tg.Config().KMS.PlatformKey || !rec.Fallback {
		t.Fatalf("fallback recording under %s (fallback %v)", rec.KeyID, rec.Fallback)
	}
	if _, res := tg.ExportTrack(fb.RecordingID, playback.FormatWAV, "caller"); res.Tracks[0].Media != 25 {
		t.Fatalf("fallback recording exports %+v", res.Tracks[0])
	}

	// The platform key is every policy's fallback: never disabled.
	ka1.Must(201, "POST", "/api/v2/keys", map[string]any{"id": "plat", "name": "Platform", "keyType": "PLATFORM",
		"label": tg.Config().KMS.PlatformKey, "region": tg.Config().Org.Region})
	pid := gatewaytest.Approved(ka1, ka2, "key.disable", "plat")
	if m := gatewaytest.WaitApproval(ka1, pid, store.ApprovalFailed, keyDelay+10*time.Second); !strings.Contains(fmt.Sprint(m["lastError"]), "platform key") {
		t.Fatalf("platform key disable: %v", m)
	}
	if m := ka1.Must(200, "GET", "/api/v2/keys/plat", nil); m["keyState"] != "ENABLED" {
		t.Fatalf("platform key after a failed disable: %v", m)
	}
	if info, err := tg.Keyring().Describe(ctx, kms.KeyRef{Provider: local.ProviderName, KeyID: tg.Config().KMS.PlatformKey}); err != nil || info.State != kms.StateEnabled {
		t.Fatalf("platform key %+v %v", info, err)
	}

	seen := gatewaytest.AuditSeen(auditor)
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

// waitPoolLen waits until the DEK pool of ref is as ok wants (what names it).
func waitPoolLen(t *testing.T, tg *gatewaytest.Gateway, ref kms.KeyRef, what string, ok func(int) bool, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for n := tg.Broker().PoolLen(ref); !ok(n); n = tg.Broker().PoolLen(ref) {
		if time.Now().After(deadline) {
			t.Fatalf("pool of %s holds %d DEKs after %s, want it %s", ref, n, within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCeremonyKeyDelete: an approved key.delete is SCHEDULED; a veto
// during its delay stops it (the key and its recordings stay usable);
// without a veto the gateway executes it itself when the delay is over,
// crypto-shredding every recording under the key and wiping the DEKs it
// pooled under it, audited with the approver as the actor; a veto after
// that is refused.
func TestCeremonyKeyDelete(t *testing.T) {
	tg, ka1, ka2, auditor := startKeyGateway(t)
	ctx := context.Background()
	ids := []string{tg.RecordCall(31), tg.RecordCall(32)}

	vetoed := gatewaytest.Approved(ka1, ka2, "key.delete", "cust-key")
	ka1.Must(409, "POST", "/api/v2/keys/cust-key/deletion", nil, api.HeaderApproval, vetoed) // the gateway executes it
	auditor.Must(200, "POST", "/api/v2/approvals/"+vetoed+"/veto", map[string]any{"reason": "legal hold on these calls"})
	time.Sleep(keyDelay + 10*time.Duration(keySweep)) // several sweeps after it would have run
	if m := ka1.Must(200, "GET", "/api/v2/approvals/"+vetoed, nil); m["status"] != store.ApprovalVetoed || m["executedAt"] != nil {
		t.Fatalf("vetoed deletion: %v", m)
	}
	ka1.Must(409, "POST", "/api/v2/keys/cust-key/deletion", nil, api.HeaderApproval, vetoed)
	if m := ka1.Must(200, "GET", "/api/v2/keys/cust-key", nil); m["keyState"] != "ENABLED" {
		t.Fatalf("vetoed deletion ran: %v", m)
	}
	for _, id := range ids {
		tg.ExportTrack(id, playback.FormatWAV, "caller") // still readable
	}

	custRef := kms.KeyRef{Provider: local.ProviderName, KeyID: "cust"}
	waitPoolLen(t, tg, custRef, "full", func(n int) bool { return n > 0 }, 10*time.Second)
	id := gatewaytest.Approved(ka1, ka2, "key.delete", "cust-key")
	m := gatewaytest.WaitApproval(ka1, id, store.ApprovalExecuted, keyDelay+10*time.Second)
	t.Logf("scheduled deletion executed %v after its executesAt by %v", gatewaytest.Lateness(t, m), m["executedBy"])
	auditor.Must(409, "POST", "/api/v2/approvals/"+id+"/veto", map[string]any{"reason": "too late"})
	if m := ka1.Must(200, "GET", "/api/v2/keys/cust-key", nil); m["keyState"] != controlplane.KeyStateDestroyed {
		t.Fatalf("key after the scheduled deletion: %v", m)
	}
	// The DEKs pooled under the shredded key do not outlive it in memory.
	waitPoolLen(t, tg, custRef, "empty", func(n int) bool { return n == 0 }, controlplane.PolicyRefresh+time.Second)
	gatewaytest.CheckShreddedEverywhere(t, tg, ids)
	if _, err := tg.Keyring().Describe(ctx, custRef); !errors.Is(err, kms.ErrNotFound) {
		t.Fatalf("destroyed key still described: %v", err)
	}
	// New sessions on a destroyed key fall back (PLATFORM_KEY) at once.
	s := tg.CreateCall("pci", "caller")
	waitKeyState(t, tg, s, media.KeyFallback, 5*time.Second)
	tg.End(s)

	seen := gatewaytest.AuditSeen(auditor)
	for _, want := range []string{
		"approval.vetoed/auditor-1/success", "key.deleted/key-admin-2/success", "approval.executed/key-admin-2/success",
		"key_shredded/key-admin-2/success", "approval.veto/auditor-1/refused",
	} {
		if !seen[want] {
			t.Errorf("audit log lacks %s", want)
		}
	}
	if rec, _ := tg.Store().GetRecording(ctx, ids[0]); rec.Status != store.RecordingShredded {
		t.Fatalf("index status %s", rec.Status)
	}
}

// TestJobsAuditInChain: rotation and re-encryption job events land in the
// hash-chained audit log and show in GET /api/v2/audit/events.
func TestJobsAuditInChain(t *testing.T) {
	tg, ka1, _, auditor := startKeyGateway(t)
	tg.RecordCall(51)
	if m := ka1.Must(200, "POST", "/api/v2/keys/cust-key/rotate", nil); m["version"] != "v2" {
		t.Fatalf("rotate: %v", m)
	}
	j := ka1.Must(202, "POST", "/api/v2/recordings/reencrypt", map[string]any{"policyIds": []string{"pci"}, "targetKeyVersion": "v2", "dryRun": true})
	deadline := time.Now().Add(20 * time.Second)
	for !store.JobFinal(fmt.Sprint(j["status"])) {
		if time.Now().After(deadline) {
			t.Fatalf("job %v", j)
		}
		time.Sleep(20 * time.Millisecond)
		j = ka1.Must(200, "GET", "/api/v2/recordings/reencrypt/"+fmt.Sprint(j["id"]), nil)
	}
	// The runner audits the end just after it stores the final status.
	want := []string{"key_rotated/key-admin-1/success", "reencryption_job_started/key-admin-1/success",
		"reencryption_job_completed/key-admin-1/success"}
	seen := gatewaytest.AuditSeen(auditor)
	for end := time.Now().Add(5 * time.Second); !seen[want[2]] && time.Now().Before(end); seen = gatewaytest.AuditSeen(auditor) {
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range want {
		if !seen[want] {
			t.Errorf("audit log lacks %s: %v", want, seen)
		}
	}
	// The chain holds them: it verifies.
	tg.Shutdown()
	if out, err := exec.Command(gatewaytest.MediasealBinary(t), "audit", "verify", "--data-dir", tg.Config().DataDir).CombinedOutput(); err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
}

// TestCeremonyConfigWiring: the ceremony section of the config decides
// the bootstrap, the admin token and the quorum rules.
func TestCeremonyConfigWiring(t *testing.T) {
	off := false
	tg := gatewaytest.Start(t, func(c *config.Config) { c.Ceremony.BootstrapPrincipals, c.Ceremony.AdminToken = &off, &off })
	if code := tg.Admin("GET", "/api/v2/keys", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("admin token with ceremony.adminToken false: %d", code)
	}
	if _, err := os.Stat(filepath.Join(tg.Config().DataDir, "credentials")); !os.IsNotExist(err) {
		t.Fatalf("credentials written with ceremony.bootstrapPrincipals false: %v", err)
	}

	tg = gatewaytest.Start(t, func(c *config.Config) {
		c.Ceremony.Quorum = map[string]config.QuorumRule{"recording.playback": {Approvals: 3}}
	})
	if code := tg.Admin("GET", "/api/v2/keys", nil, nil); code != http.StatusOK {
		t.Fatalf("admin token when on: %d", code)
	}
	s := tg.CreateCall("sales", "caller")
	tg.End(s)
	pid, digest := tg.Principal("playback-requester-1").Propose("recording.playback", s.RecordingID, nil, "dispute")
	var m map[string]any
	for _, a := range []string{"key-admin-1", "key-admin-2", "policy-admin-1"} {
		m = tg.Principal(a).Must(200, "POST", "/api/v2/approvals/"+pid+"/approve", map[string]any{"digest": digest})
		if a == "key-admin-2" && m["status"] != "PENDING" {
			t.Fatalf("2 of 3 approvals: %v", m)
		}
	}
	if m["status"] != "APPROVED" {
		t.Fatalf("3 of 3 approvals: %v", m)
	}
}
