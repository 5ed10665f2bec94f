package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/kms/awskms"
)

// principal is a bootstrapped service account with its token.
type principal struct {
	tg    *testGateway
	creds auth.Credentials
	token string
}

func (tg *testGateway) principal(id string) *principal {
	tg.t.Helper()
	c, err := auth.ReadCredentials(auth.CredentialsPath(tg.cfg.DataDir, id))
	if err != nil {
		tg.t.Fatal(err)
	}
	p := &principal{tg: tg, creds: c}
	// The reference guide's JSON token request.
	body, _ := json.Marshal(map[string]any{"grantType": "client_credentials", "scopes": c.Scopes,
		"applicationId": c.ClientID, "expirationSeconds": 3600, "clientSecret": c.ClientSecret})
	resp, err := http.Post(tg.url+auth.PathTokenJSON, "application/json", bytes.NewReader(body))
	if err != nil {
		tg.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string   `json:"accessToken"`
		Scopes      []string `json:"scopes"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&out) != nil || out.AccessToken == "" {
		tg.t.Fatalf("token for %s: %d", id, resp.StatusCode)
	}
	p.token = out.AccessToken
	return p
}

// call sends a JSON request as p and returns the status, the raw body and
// the decoded JSON object (if any).
func (p *principal) call(method, path string, body any, header ...string) (int, []byte, map[string]any) {
	p.tg.t.Helper()
	return rawCall(p.tg.t, method, p.tg.url+path, p.token, body, header...)
}

func rawCall(t testing.TB, method, u, token string, body any, header ...string) (int, []byte, map[string]any) {
	t.Helper()
	var rd io.Reader
	if raw, ok := body.([]byte); ok { // sent as is (malformed bodies)
		rd = bytes.NewReader(raw)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, raw, m
}

func (p *principal) must(want int, method, path string, body any, header ...string) map[string]any {
	p.tg.t.Helper()
	code, raw, m := p.call(method, path, body, header...)
	if code != want {
		p.tg.t.Fatalf("%s %s %s: %d, want %d: %s", p.creds.ClientID, method, path, code, want, raw)
	}
	return m
}

// propose returns the id and digest of a new proposal.
func (p *principal) propose(op, target string, params any, reason string) (string, string) {
	p.tg.t.Helper()
	body := map[string]any{"operation": op, "target": target, "reason": reason}
	if params != nil {
		body["parameters"] = params
	}
	m := p.must(201, "POST", "/api/v2/approvals", body)
	return m["id"].(string), m["digest"].(string)
}

// startCeremonyGateway runs a gateway with AWS KMS (local-kms) enabled and
// no customer key or policy configured: the ceremony adds them.
func startCeremonyGateway(t *testing.T, lk *testenv.LocalKMS) *testGateway {
	p, err := awskms.New(context.Background(), awskms.Config{Region: lk.Region, Endpoint: lk.Endpoint, AccessKeyID: "test",
		SecretAccessKey: "test", OrgRegion: lk.Region}, awskms.WithCiphertextVersion(awskms.LocalKMSCiphertextVersion))
	if err != nil {
		t.Fatal(err)
	}
	return startGateway(t, func(c *config.Config) {
		c.Org.Region = lk.Region
		c.KMS.AWS = config.KMSAWS{Enabled: true, Region: lk.Region, Endpoint: lk.Endpoint, AccessKeyID: "test", SecretAccessKey: "test"}
	}, WithKMSProvider(awskms.ProviderName, p))
}

// TestCeremony walks the reference guide end to end through the HTTP API
// with separate principals.
func TestCeremony(t *testing.T) {
	lk := startLocalKMS(t)
	tg := startCeremonyGateway(t, lk)
	ka1, ka2 := tg.principal("key-admin-1"), tg.principal("key-admin-2")
	pa, auditor := tg.principal("policy-admin-1"), tg.principal("auditor-1")
	media, requester := tg.principal("media-service-1"), tg.principal("playback-requester-1")
	const keyID = "cmk-recording-key-01"
	arn := lk.ARN("cmk-1")

	// 1. The key administrator registers the KMS key by ARN (never material).
	ka1.must(201, "POST", "/api/v2/keys", map[string]any{"id": keyID, "name": "RecordingEncryptionCMK_01", "keyType": "AWS_KMS",
		"region": lk.Region, "arn": arn, "keyState": "ENABLED", "description": "Primary key for PCI-DSS compliant call recording encryption"})
	// The policy administrator cannot touch keys.
	if code, _, m := pa.call("POST", "/api/v2/keys/"+keyID, nil); code != 403 || m["scope"] != auth.ScopeKeyWrite {
		t.Fatalf("policy admin binds a key: %d %v", code, m)
	}

	// 2. Binding needs a second key administrator's approval.
	bind := map[string]any{"name": "RecordingEncryptionCMK_01", "encryptionType": "AES-256-GCM",
		"keyProvider": map[string]any{"providerType": "AWS_KMS", "region": lk.Region, "keyArn": arn},
		"autoRotate":  true, "rotationPeriodDays": 90, "status": "ACTIVE"}
	if m := ka1.must(403, "POST", "/api/v2/keys/"+keyID, bind); m["code"] != api.CodeApprovalRequired {
		t.Fatalf("bind without approval: %v", m)
	}
	bindID, bindDigest := ka1.propose("key.bind", keyID, bind, "PCI-DSS queue encryption")
	ka1.must(403, "POST", "/api/v2/approvals/"+bindID+"/approve", map[string]any{"digest": bindDigest}) // self-approval
	ka2.must(409, "POST", "/api/v2/approvals/"+bindID+"/approve", map[string]any{"digest": strings.Repeat("0", 64)})
	if m := ka2.must(200, "POST", "/api/v2/approvals/"+bindID+"/approve", map[string]any{"digest": bindDigest}); m["status"] != "APPROVED" {
		t.Fatalf("after the second key admin: %v", m)
	}
	ka2.must(409, "POST", "/api/v2/approvals/"+bindID+"/approve", map[string]any{"digest": bindDigest}) // duplicate
	bind2 := map[string]any{"name": "RecordingEncryptionCMK_01", "status": "ACTIVE"}
	ka1.must(409, "POST", "/api/v2/keys/"+keyID, bind2, api.HeaderApproval, bindID) // not what was approved
	if m := ka1.must(200, "POST", "/api/v2/keys/"+keyID, bind, api.HeaderApproval, bindID); m["binding"].(map[string]any)["status"] != "BOUND" {
		t.Fatalf("bind: %v", m)
	}
	ka1.must(409, "POST", "/api/v2/keys/"+keyID, bind, api.HeaderApproval, bindID) // replay

	// 3. The policy administrator binds the key to the PCI queue, with a
	// key administrator's approval of the key change.
	ref := map[string]any{"keyId": keyID, "providerType": "AWS_KMS"}
	pol := map[string]any{"id": "pci", "name": "PCI-DSS Secure Recording Policy", "description": "CMK for PCI queues",
		"recordingType": "AUDIO", "encryptionKeyReference": ref, "targetType": "QUEUE", "targetIds": []string{"pci"},
		"status": "ENABLED", "conditions": map[string]any{"direction": "INBOUND", "callerIdPattern": nil, "timeWindow": nil}}
	pa.must(403, "POST", "/api/v2/recordings/policies", pol)
	polID, polDigest := pa.propose("policy.encryption_key", "pci", policyParams(t, pol, 0), "bind CMK to PCI queue")
	ka2.must(200, "POST", "/api/v2/approvals/"+polID+"/approve", map[string]any{"digest": polDigest})
	pa.must(201, "POST", "/api/v2/recordings/policies", pol, api.HeaderApproval, polID)

	// 4. A call on the PCI queue is recorded under the customer key; the
	// media service uses its media:ingest token on the session API.
	tg.token = media.token
	s := tg.createCall("pci", "caller")
	if !s.Recorded || s.PolicyID != "pci" {
		t.Fatalf("session %+v", s)
	}
	newSender(t, s.Tracks[0].RTP, 9, 440).sendRange(0, 50, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	if sum := tg.end(s); sum.Status != "COMPLETE" {
		t.Fatalf("summary %+v", sum)
	}
	tg.waitStored(s.RecordingID)
	rec := ka1.must(200, "GET", "/api/v2/recordings/"+s.RecordingID, nil)
	if k := rec["key"].(map[string]any); k["keyId"] != arn || k["fallback"] != false {
		t.Fatalf("recording key %v", k)
	}

	// 5. Playback: refused without approval, then audio after two distinct approvers.
	media.must(403, "GET", "/api/v2/recordings/"+s.RecordingID+"/media?format=wav", nil) // wrong scope
	mediaPath := "/api/v2/recordings/" + s.RecordingID + "/media?format=wav"
	if m := requester.must(403, "GET", mediaPath, nil); m["code"] != api.CodeApprovalRequired {
		t.Fatalf("playback without approval: %v", m)
	}
	pbID, pbDigest := requester.propose("recording.playback", s.RecordingID, nil, "customer dispute 4711")
	ka1.must(200, "POST", "/api/v2/approvals/"+pbID+"/approve", map[string]any{"digest": pbDigest})
	ka1.must(409, "POST", "/api/v2/approvals/"+pbID+"/approve", map[string]any{"digest": pbDigest})
	requester.must(409, "GET", mediaPath, nil, api.HeaderApproval, pbID) // one approval of two
	ka2.must(200, "POST", "/api/v2/approvals/"+pbID+"/approve", map[string]any{"digest": pbDigest})
	ka1.must(403, "GET", mediaPath, nil, api.HeaderApproval, pbID) // a key admin never plays back
	code, audio, _ := requester.call("GET", mediaPath, nil, api.HeaderApproval, pbID)
	if code != 200 {
		t.Fatalf("playback: %d %s", code, audio)
	}
	w := parseWAV(t, audio)
	if w.rate != 8000 || len(w.samples) != 1 || len(w.samples[0]) != 50*160 {
		t.Fatalf("wav %d Hz, %d channels, %d samples", w.rate, len(w.samples), len(w.samples[0]))
	}
	requester.must(409, "GET", mediaPath, nil, api.HeaderApproval, pbID) // single use

	// 6. The auditor sees every step; the chain verifies offline.
	var events []map[string]any
	after := "0"
	for {
		m := auditor.must(200, "GET", "/api/v2/audit/events?limit=50&after="+after, nil)
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
	auditor.must(403, "GET", mediaPath, nil, api.HeaderApproval, pbID)
	requester.must(403, "GET", "/api/v2/audit/events", nil)
	tg.shutdown() // signs a last checkpoint
	out, err := exec.Command(mediasealBinary(t), "audit", "verify", "--data-dir", tg.cfg.DataDir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "audit log intact") {
		t.Fatalf("mediaseal audit verify: %v\n%s", err, out)
	}
	t.Logf("%d audit events; %s", len(events), strings.TrimSpace(string(out)))

	// Editing one row (who played the recording back) breaks verification,
	// which names the entry.
	st, err := store.Open(context.Background(), store.Config{SQLitePath: tg.cfg.SQLitePath()})
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
	out, err = exec.Command(mediasealBinary(t), "audit", "verify", "--data-dir", tg.cfg.DataDir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), fmt.Sprintf("entry %d ", seq)) {
		t.Fatalf("verify after editing entry %d: %v\n%s", seq, err, out)
	}
}

// TestCeremonyNegatives: every ceremony endpoint refuses a missing,
// expired, wrong-audience and tampered token (401) and a token without its
// scope (403 naming the scope).
func TestCeremonyNegatives(t *testing.T) {
	tg := startGateway(t, nil)
	ka1 := tg.principal("key-admin-1")
	media := tg.principal("media-service-1")
	creds := ka1.creds
	mint := func(cfg auth.Config) string {
		svc, err := auth.New(context.Background(), tg.index, tg.ceremonyWrapper(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := svc.Issue(context.Background(), auth.TokenRequest{ClientID: creds.ClientID, ClientSecret: creds.ClientSecret})
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	issuer := tg.cer.auth.Config().Issuer
	expired := mint(auth.Config{Issuer: issuer, Now: func() time.Time { return time.Now().Add(-3 * time.Hour) }})
	wrongAud := mint(auth.Config{Issuer: issuer, Audience: "another-service"})
	tampered := ka1.token[:len(ka1.token)-6] + strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return 'A'
	}, ka1.token[len(ka1.token)-6:])
	for _, rt := range api.Routes() {
		if !strings.Contains(rt.Pattern, "approvals") && !strings.Contains(rt.Pattern, "audit") && !strings.Contains(rt.Pattern, "{part}") &&
			!strings.HasSuffix(rt.Pattern, "/disable") && !strings.HasSuffix(rt.Pattern, "/deletion") && rt.Pattern != "/api/v2/keys/{keyId}" {
			continue
		}
		path := strings.NewReplacer("{id}", "x", "{keyId}", "k", "{part}", "media").Replace(rt.Pattern)
		for _, tc := range []struct {
			name, token string
			status      int
		}{{"no token", "", 401}, {"expired", expired, 401}, {"wrong audience", wrongAud, 401}, {"tampered", tampered, 401}, {"missing scope", media.token, 403}} {
			code, raw, m := rawCall(t, rt.Method, tg.url+path, tc.token, map[string]any{})
			if code != tc.status || (tc.status == 403 && m["scope"] != rt.Scope) {
				t.Errorf("%s %s %s: %d %s", rt.Method, path, tc.name, code, raw)
			}
		}
	}
	// The session API takes media:ingest tokens, and refuses others.
	if code, _, _ := rawCall(t, "GET", tg.url+"/v1/sessions/none", media.token, nil); code != 404 {
		t.Fatalf("media token on the session API: %d", code)
	}
	if code, _, _ := rawCall(t, "GET", tg.url+"/v1/sessions/none", ka1.token, nil); code != 403 {
		t.Fatalf("key admin token on the session API: %d", code)
	}
	// Revocation by jti (RFC 7009 endpoint) takes effect at once.
	form := url.Values{"token": {ka1.token}, "client_id": {creds.ClientID}, "client_secret": {creds.ClientSecret}}
	resp, err := http.PostForm(tg.url+auth.PathRevoke, form)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	resp.Body.Close()
	if code, raw, _ := ka1.call("GET", "/api/v2/approvals", nil); code != 401 || !strings.Contains(string(raw), "revoked") {
		t.Fatalf("revoked token: %d %s", code, raw)
	}
}

// TestVetoStopsKeyDisable: a disable proposal approved by a second key
// admin is SCHEDULED; the auditor's veto during its delay stops it, and
// without one the gateway disables the key itself when the delay is over.
func TestVetoStopsKeyDisable(t *testing.T) {
	sweep := config.Duration(50 * time.Millisecond)
	tg := startGateway(t, func(c *config.Config) { c.Ceremony.SweepInterval = &sweep }, WithApprovals(approvalsWithDelay(400*time.Millisecond)))
	ka1, ka2, auditor := tg.principal("key-admin-1"), tg.principal("key-admin-2"), tg.principal("auditor-1")
	if err := tg.keyring.EnsureKey("k1-kek"); err != nil { // not the platform key: that one is never disabled
		t.Fatal(err)
	}
	ka1.must(201, "POST", "/api/v2/keys", map[string]any{"id": "k1", "name": "K1", "keyType": "PLATFORM", "label": "k1-kek", "region": tg.cfg.Org.Region})
	for _, veto := range []bool{true, false} {
		id, digest := ka1.propose("key.disable", "k1", nil, "rotate out")
		if m := ka2.must(200, "POST", "/api/v2/approvals/"+id+"/approve", map[string]any{"digest": digest}); m["status"] != store.ApprovalScheduled {
			t.Fatalf("approved disable: %v", m)
		}
		ka1.must(409, "POST", "/api/v2/keys/k1/disable", nil, api.HeaderApproval, id) // the gateway executes it
		if veto {
			auditor.must(200, "POST", "/api/v2/approvals/"+id+"/veto", map[string]any{"reason": "legal hold"})
			time.Sleep(time.Second)
			if m := ka1.must(200, "GET", "/api/v2/approvals/"+id, nil); m["status"] != store.ApprovalVetoed {
				t.Fatalf("vetoed disable: %v", m)
			}
			if m := ka1.must(200, "GET", "/api/v2/keys/k1", nil); m["keyState"] != "ENABLED" {
				t.Fatalf("vetoed disable ran: %v", m)
			}
			continue
		}
		waitApproval(ka1, id, store.ApprovalExecuted, 10*time.Second)
		auditor.must(409, "POST", "/api/v2/approvals/"+id+"/veto", map[string]any{"reason": "too late"})
		if m := ka1.must(200, "GET", "/api/v2/keys/k1", nil); m["keyState"] != "DISABLED" {
			t.Fatalf("disable: %v", m)
		}
	}
}

// TestMetricsScope: a Prometheus scraper needs metrics:read (auditor or
// monitor role); a media service's token is refused.
func TestMetricsScope(t *testing.T) {
	tg := startGateway(t, nil)
	auditor := tg.principal("auditor-1")
	if code, _, _ := rawCall(t, "GET", tg.url+"/metrics", auditor.token, nil); code != http.StatusOK {
		t.Fatalf("auditor scraping metrics: %d", code)
	}
	media := tg.principal("media-service-1")
	if code, _, _ := rawCall(t, "GET", tg.url+"/metrics", media.token, nil); code != http.StatusForbidden {
		t.Fatalf("media service scraping metrics: %d, want 403", code)
	}
}
