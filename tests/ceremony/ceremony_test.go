package ceremony_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/auth"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/gateway"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/kms/awskms"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// startCeremonyGateway runs a gateway with AWS KMS (local-kms) enabled and
// no customer key or policy configured: the ceremony adds them.
func startCeremonyGateway(t *testing.T, lk *testenv.LocalKMS) *gatewaytest.Gateway {
	p, err := awskms.New(context.Background(), awskms.Config{Region: lk.Region, Endpoint: lk.Endpoint, AccessKeyID: "test",
		SecretAccessKey: "test", OrgRegion: lk.Region}, awskms.WithCiphertextVersion(awskms.LocalKMSCiphertextVersion))
	if err != nil {
		t.Fatal(err)
	}
	return gatewaytest.Start(t, func(c *config.Config) {
		c.Org.Region = lk.Region
		c.KMS.AWS = config.KMSAWS{Enabled: true, Region: lk.Region, Endpoint: lk.Endpoint, AccessKeyID: "test", SecretAccessKey: "test"}
	}, gateway.WithKMSProvider(awskms.ProviderName, p))
}

// TestCeremony walks the reference guide end to end through the HTTP API
// with separate principals.
func TestCeremony(t *testing.T) {
	lk := gatewaytest.StartLocalKMS(t)
	tg := startCeremonyGateway(t, lk)
	ka1, ka2 := tg.Principal("key-admin-1"), tg.Principal("key-admin-2")
	pa, auditor := tg.Principal("policy-admin-1"), tg.Principal("auditor-1")
	media, requester := tg.Principal("media-service-1"), tg.Principal("playback-requester-1")
	const keyID = "cmk-recording-key-01"
	arn := lk.ARN("cmk-1")

	// 1. The key administrator registers the KMS key by ARN (never material).
	ka1.Must(201, "POST", "/api/v2/keys", map[string]any{"id": keyID, "name": "RecordingEncryptionCMK_01", "keyType": "AWS_KMS",
		"region": lk.Region, "arn": arn, "keyState": "ENABLED", "description": "Primary key for PCI-DSS compliant call recording encryption"})
	// The policy administrator cannot touch keys.
	if code, _, m := pa.Call("POST", "/api/v2/keys/"+keyID, nil); code != 403 || m["scope"] != auth.ScopeKeyWrite {
		t.Fatalf("policy admin binds a key: %d %v", code, m)
	}

	// 2. Binding needs a second key administrator's approval.
	bind := map[string]any{"name": "RecordingEncryptionCMK_01", "encryptionType": "AES-256-GCM",
		"keyProvider": map[string]any{"providerType": "AWS_KMS", "region": lk.Region, "keyArn": arn},
		"autoRotate":  true, "rotationPeriodDays": 90, "status": "ACTIVE"}
	if m := ka1.Must(403, "POST", "/api/v2/keys/"+keyID, bind); m["code"] != api.CodeApprovalRequired {
		t.Fatalf("bind without approval: %v", m)
	}
	bindID, bindDigest := ka1.Propose("key.bind", keyID, bind, "PCI-DSS queue encryption")
	ka1.Must(403, "POST", "/api/v2/approvals/"+bindID+"/approve", map[string]any{"digest": bindDigest}) // self-approval
	ka2.Must(409, "POST", "/api/v2/approvals/"+bindID+"/approve", map[string]any{"digest": strings.Repeat("0", 64)})
	if m := ka2.Must(200, "POST", "/api/v2/approvals/"+bindID+"/approve", map[string]any{"digest": bindDigest}); m["status"] != "APPROVED" {
		t.Fatalf("after the second key admin: %v", m)
	}
	ka2.Must(409, "POST", "/api/v2/approvals/"+bindID+"/approve", map[string]any{"digest": bindDigest}) // duplicate
	bind2 := map[string]any{"name": "RecordingEncryptionCMK_01", "status": "ACTIVE"}
	ka1.Must(409, "POST", "/api/v2/keys/"+keyID, bind2, api.HeaderApproval, bindID) // not what was approved
	if m := ka1.Must(200, "POST", "/api/v2/keys/"+keyID, bind, api.HeaderApproval, bindID); m["binding"].(map[string]any)["status"] != "BOUND" {
		t.Fatalf("bind: %v", m)
	}
	ka1.Must(409, "POST", "/api/v2/keys/"+keyID, bind, api.HeaderApproval, bindID) // replay

	// 3. The policy administrator binds the key to the PCI queue, with a
	// key administrator's approval of the key change.
	ref := map[string]any{"keyId": keyID, "providerType": "AWS_KMS"}
	pol := map[string]any{"id": "pci", "name": "PCI-DSS Secure Recording Policy", "description": "CMK for PCI queues",
		"recordingType": "AUDIO", "encryptionKeyReference": ref, "targetType": "QUEUE", "targetIds": []string{"pci"},
		"status": "ENABLED", "conditions": map[string]any{"direction": "INBOUND", "callerIdPattern": nil, "timeWindow": nil}}
	pa.Must(403, "POST", "/api/v2/recordings/policies", pol)
	polID, polDigest := pa.Propose("policy.encryption_key", "pci", policyParams(t, pol, 0), "bind CMK to PCI queue")
	ka2.Must(200, "POST", "/api/v2/approvals/"+polID+"/approve", map[string]any{"digest": polDigest})
	pa.Must(201, "POST", "/api/v2/recordings/policies", pol, api.HeaderApproval, polID)

	// 4. A call on the PCI queue is recorded under the customer key; the
	// media service uses its media:ingest token on the session API.
	tg.Token = media.Token
	s := tg.CreateCall("pci", "caller")
	if !s.Recorded || s.PolicyID != "pci" {
		t.Fatalf("session %+v", s)
	}
	gatewaytest.NewSender(t, s.Tracks[0].RTP, 9, 440).SendRange(0, 50, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	if sum := tg.End(s); sum.Status != "COMPLETE" {
		t.Fatalf("summary %+v", sum)
	}
	tg.WaitStored(s.RecordingID)
	rec := ka1.Must(200, "GET", "/api/v2/recordings/"+s.RecordingID, nil)
	if k := rec["key"].(map[string]any); k["keyId"] != arn || k["fallback"] != false {
		t.Fatalf("recording key %v", k)
	}

	// 5. Playback: refused without approval, then audio after two distinct approvers.
	media.Must(403, "GET", "/api/v2/recordings/"+s.RecordingID+"/media?format=wav", nil) // wrong scope
	mediaPath := "/api/v2/recordings/" + s.RecordingID + "/media?format=wav"
	if m := requester.Must(403, "GET", mediaPath, nil); m["code"] != api.CodeApprovalRequired {
		t.Fatalf("playback without approval: %v", m)
	}
	pbID, pbDigest := requester.Propose("recording.playback", s.RecordingID, nil, "customer dispute 4711")
	ka1.Must(200, "POST", "/api/v2/approvals/"+pbID+"/approve", map[string]any{"digest": pbDigest})
	ka1.Must(409, "POST", "/api/v2/approvals/"+pbID+"/approve", map[string]any{"digest": pbDigest})
	requester.Must(409, "GET", mediaPath, nil, api.HeaderApproval, pbID) // one approval of two
	ka2.Must(200, "POST", "/api/v2/approvals/"+pbID+"/approve", map[string]any{"digest": pbDigest})
	ka1.Must(403, "GET", mediaPath, nil, api.HeaderApproval, pbID) // a key admin never plays back
	code, audio, _ := requester.Call("GET", mediaPath, nil, api.HeaderApproval, pbID)
	if code != 200 {
		t.Fatalf("playback: %d %s", code, audio)
	}
	w := gatewaytest.ParseWAV(t, audio)
	if w.Rate != 8000 || len(w.Samples) != 1 || len(w.Samples[0]) != 50*160 {
		t.Fatalf("wav %d Hz, %d channels, %d samples", w.Rate, len(w.Samples), len(w.Samples[0]))
	}
	requester.Must(409, "GET", mediaPath, nil, api.HeaderApproval, pbID) // single use

	// 6. The auditor sees every step; the chain verifies offline.
	var events []map[string]any
	after := "0"
	for {
		m := auditor.Must(200, "GET", "/api/v2/audit/events?limit=50&after="+after, nil)
		for _, e := range m["entities"].([]any) {
			events = append(events, e.(map[string]any))
		}
		if m["nextAfter"] == nil {
			break
		}
		after = fmt.Sprint(m["nextAfter"])
	}
	seen := map[string]bool{}
	for _, e := range events {
		seen[fmt.Sprint(e["action"], "/", e["actor"], "/", e["outcome"])] = true
	}
	for _, want := range []string{
		"token.issued/key-admin-1/success", "key.registered/key-admin-1/success",
		"approval.proposed/key-admin-1/success", "approval.approve/key-admin-1/refused",
		"approval.approved/key-admin-2/success", "approval.executed/key-admin-1/success", "key.bound/key-admin-1/success",
		"approval.execute/key-admin-1/refused", "approval.proposed/policy-admin-1/success", "policy.created/policy-admin-1/success",
		"approval.proposed/playback-requester-1/success", "recording.playback/playback-requester-1/success",
		"access.refused/media-service-1/refused",
	} {
		if !seen[want] {
			t.Errorf("audit log lacks %s", want)
		}
	}
	auditor.Must(403, "GET", mediaPath, nil, api.HeaderApproval, pbID)
	requester.Must(403, "GET", "/api/v2/audit/events", nil)
	tg.Shutdown() // signs a last checkpoint
	out, err := exec.Command(gatewaytest.MediasealBinary(t), "audit", "verify", "--data-dir", tg.Config().DataDir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "audit log intact") {
		t.Fatalf("mediaseal audit verify: %v\n%s", err, out)
	}
	t.Logf("%d audit events; %s", len(events), strings.TrimSpace(string(out)))

	// Editing one row (who played the recording back) breaks verification,
	// which names the entry.
	st, err := store.Open(context.Background(), store.Config{SQLitePath: tg.Config().SQLitePath()})
	if err != nil {
		t.Fatal(err)
	}
	var seq int64
	if err := st.DB().QueryRow(`SELECT seq FROM audit_events WHERE action = 'recording.playback'`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(`UPDATE audit_events SET actor = 'someone-else' WHERE seq = ?`, seq); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out, err = exec.Command(gatewaytest.MediasealBinary(t), "audit", "verify", "--data-dir", tg.Config().DataDir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), fmt.Sprintf("entry %d ", seq)) {
		t.Fatalf("verify after editing entry %d: %v\n%s", seq, err, out)
	}
}

// TestCeremonyNegatives: every ceremony endpoint refuses a missing,
// expired, wrong-audience and tampered token (401) and a token without its
// scope (403 naming the scope).
func TestCeremonyNegatives(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	ka1 := tg.Principal("key-admin-1")
	media := tg.Principal("media-service-1")
	creds := ka1.Creds
	mint := func(cfg auth.Config) string {
		svc, err := auth.New(context.Background(), tg.Store(), tg.CeremonyWrapper(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := svc.Issue(context.Background(), auth.TokenRequest{ClientID: creds.ClientID, ClientSecret: creds.ClientSecret})
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	issuer := tg.TokenIssuer()
	expired := mint(auth.Config{Issuer: issuer, Now: func() time.Time { return time.Now().Add(-3 * time.Hour) }})
	wrongAud := mint(auth.Config{Issuer: issuer, Audience: "another-service"})
	tampered := ka1.Token[:len(ka1.Token)-6] + strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return 'A'
	}, ka1.Token[len(ka1.Token)-6:])
	for _, rt := range api.Routes() {
		if !strings.Contains(rt.Pattern, "approvals") && !strings.Contains(rt.Pattern, "audit") && !strings.Contains(rt.Pattern, "{part}") &&
			!strings.HasSuffix(rt.Pattern, "/disable") && !strings.HasSuffix(rt.Pattern, "/deletion") && rt.Pattern != "/api/v2/keys/{keyId}" {
			continue
		}
		path := strings.NewReplacer("{id}", "x", "{keyId}", "k", "{part}", "media").Replace(rt.Pattern)
		for _, tc := range []struct {
			name, token string
			status      int
		}{{"no token", "", 401}, {"expired", expired, 401}, {"wrong audience", wrongAud, 401}, {"tampered", tampered, 401}, {"missing scope", media.Token, 403}} {
			code, raw, m := gatewaytest.RawCall(t, rt.Method, tg.URL+path, tc.token, map[string]any{})
			if code != tc.status || (tc.status == 403 && m["scope"] != rt.Scope) {
				t.Errorf("%s %s %s: %d %s", rt.Method, path, tc.name, code, raw)
			}
		}
	}
	// The session API takes media:ingest tokens, and refuses others.
	if code, _, _ := gatewaytest.RawCall(t, "GET", tg.URL+"/v1/sessions/none", media.Token, nil); code != 404 {
		t.Fatalf("media token on the session API: %d", code)
	}
	if code, _, _ := gatewaytest.RawCall(t, "GET", tg.URL+"/v1/sessions/none", ka1.Token, nil); code != 403 {
		t.Fatalf("key admin token on the session API: %d", code)
	}
	// Revocation by jti (RFC 7009 endpoint) takes effect at once.
	form := url.Values{"token": {ka1.Token}, "client_id": {creds.ClientID}, "client_secret": {creds.ClientSecret}}
	resp, err := http.PostForm(tg.URL+auth.PathRevoke, form)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	resp.Body.Close()
	if code, raw, _ := ka1.Call("GET", "/api/v2/approvals", nil); code != 401 || !strings.Contains(string(raw), "revoked") {
		t.Fatalf("revoked token: %d %s", code, raw)
	}
}

// TestVetoStopsKeyDisable: a disable proposal approved by a second key
// admin is SCHEDULED; the auditor's veto during its delay stops it, and
// without one the gateway disables the key itself when the delay is over.
func TestVetoStopsKeyDisable(t *testing.T) {
	sweep := config.Duration(50 * time.Millisecond)
	tg := gatewaytest.Start(t, func(c *config.Config) { c.Ceremony.SweepInterval = &sweep }, gateway.WithApprovals(gatewaytest.ApprovalsWithDelay(400*time.Millisecond)))
	ka1, ka2, auditor := tg.Principal("key-admin-1"), tg.Principal("key-admin-2"), tg.Principal("auditor-1")
	if err := tg.Keyring().EnsureKey("k1-kek"); err != nil { // not the platform key: that one is never disabled
		t.Fatal(err)
	}
	ka1.Must(201, "POST", "/api/v2/keys", map[string]any{"id": "k1", "name": "K1", "keyType": "PLATFORM", "label": "k1-kek", "region": tg.Config().Org.Region})
	for _, veto := range []bool{true, false} {
		id, digest := ka1.Propose("key.disable", "k1", nil, "rotate out")
		if m := ka2.Must(200, "POST", "/api/v2/approvals/"+id+"/approve", map[string]any{"digest": digest}); m["status"] != store.ApprovalScheduled {
			t.Fatalf("approved disable: %v", m)
		}
		ka1.Must(409, "POST", "/api/v2/keys/k1/disable", nil, api.HeaderApproval, id) // the gateway executes it
		if veto {
			auditor.Must(200, "POST", "/api/v2/approvals/"+id+"/veto", map[string]any{"reason": "legal hold"})
			time.Sleep(time.Second)
			if m := ka1.Must(200, "GET", "/api/v2/approvals/"+id, nil); m["status"] != store.ApprovalVetoed {
				t.Fatalf("vetoed disable: %v", m)
			}
			if m := ka1.Must(200, "GET", "/api/v2/keys/k1", nil); m["keyState"] != "ENABLED" {
				t.Fatalf("vetoed disable ran: %v", m)
			}
			continue
		}
		gatewaytest.WaitApproval(ka1, id, store.ApprovalExecuted, 10*time.Second)
		auditor.Must(409, "POST", "/api/v2/approvals/"+id+"/veto", map[string]any{"reason": "too late"})
		if m := ka1.Must(200, "GET", "/api/v2/keys/k1", nil); m["keyState"] != "DISABLED" {
			t.Fatalf("disable: %v", m)
		}
	}
}

// TestMetricsScope: a Prometheus scraper needs metrics:read (auditor or
// monitor role); a media service's token is refused.
func TestMetricsScope(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	auditor := tg.Principal("auditor-1")
	if code, _, _ := gatewaytest.RawCall(t, "GET", tg.URL+"/metrics", auditor.Token, nil); code != http.StatusOK {
		t.Fatalf("auditor scraping metrics: %d", code)
	}
	media := tg.Principal("media-service-1")
	if code, _, _ := gatewaytest.RawCall(t, "GET", tg.URL+"/metrics", media.Token, nil); code != http.StatusForbidden {
		t.Fatalf("media service scraping metrics: %d, want 403", code)
	}
}
