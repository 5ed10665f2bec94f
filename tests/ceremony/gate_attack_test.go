package ceremony_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/controlplane"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/gateway"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// registerCMK registers local-kms key cmk-1 as keyID (unbound).
func registerCMK(ka *gatewaytest.Principal, lk *testenv.LocalKMS, keyID, name string) string {
	arn := lk.ARN("cmk-1")
	ka.Must(201, "POST", "/api/v2/keys", map[string]any{"id": keyID, "name": name, "keyType": "AWS_KMS",
		"region": lk.Region, "arn": arn, "keyState": "ENABLED"})
	return arn
}

// auditEvents reads the whole audit log through the API.
func auditEvents(auditor *gatewaytest.Principal) []map[string]any {
	var out []map[string]any
	after := "0"
	for {
		m := auditor.Must(200, "GET", "/api/v2/audit/events?limit=100&after="+after, nil)
		for _, e := range m["entities"].([]any) {
			out = append(out, e.(map[string]any))
		}
		if m["nextAfter"] == nil {
			return out
		}
		after = fmt.Sprint(m["nextAfter"])
	}
}

// countEvents counts the events of action (and actor, when not "").
func countEvents(events []map[string]any, action, actor string) int {
	n := 0
	for _, e := range events {
		if e["action"] == action && (actor == "" || e["actor"] == actor) {
			n++
		}
	}
	return n
}

func adminToken(t *testing.T, tg *gatewaytest.Gateway) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tg.Config().DataDir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestGateStrictBindBody (hole 1): a bind body that the quorum gate and
// the handler could read two ways is a 400 for a key administrator and
// for the admin token alike — duplicate keys at any depth, case-variant
// and escaped keys, invalid UTF-8 in a value or a key, a BOM, trailing
// data, an unknown field — and the key stays unbound with no key.bound
// in the audit log. The old gate skipped the quorum when
// approvals.Canonical refused the body and the handler bound the key.
func TestGateStrictBindBody(t *testing.T) {
	lk := gatewaytest.StartLocalKMS(t)
	tg := startCeremonyGateway(t, lk)
	ka1, ka2, auditor := tg.Principal("key-admin-1"), tg.Principal("key-admin-2"), tg.Principal("auditor-1")
	const keyID = "cmk-attack"
	arn := registerCMK(ka1, lk, keyID, "AttackCMK")
	prov := fmt.Sprintf(`"providerType":"AWS_KMS","region":%q,"keyArn":%q`, lk.Region, arn)
	good := `"name":"AttackCMK","keyProvider":{` + prov + `},"status":"ACTIVE"`
	attacks := []struct{ name, body, field string }{
		{"duplicate top", `{` + good + `,"name":"AttackCMK"}`, "name"},
		{"duplicate nested", `{"name":"AttackCMK","keyProvider":{` + prov + `,"keyArn":` + fmt.Sprintf("%q", arn) + `}}`, "keyProvider.keyArn"},
		{"case variant", `{"Name":"AttackCMK","keyProvider":{` + prov + `}}`, "Name"},
		{"case variant nested", `{"name":"AttackCMK","keyProvider":{"PROVIDERTYPE":"AWS_KMS","region":"` + lk.Region + `","keyArn":"` + arn + `"}}`, "keyProvider.PROVIDERTYPE"},
		{"case pair", `{` + good + `,"NAME":"AttackCMK"}`, "NAME"},
		{"escaped key", `{"\u006eame":"AttackCMK","keyProvider":{` + prov + `}}`, "name"},
		{"escaped duplicate", `{` + good + `,"\u006eame":"AttackCMK"}`, "name"},
		{"invalid utf8 value", "{\"name\":\"AttackCMK\xff\",\"keyProvider\":{" + prov + "}}", ""},
		{"invalid utf8 key", "{" + good + ",\"n\xc3\":1}", ""},
		{"bom", "\xef\xbb\xbf{" + good + "}", ""},
		{"trailing data", `{` + good + `}{"name":"x"}`, ""},
		{"unknown field", `{` + good + `,"force":true}`, "force"},
	}
	admin := adminToken(t, tg)
	for _, a := range attacks {
		for who, tok := range map[string]string{"key-admin-1": ka1.Token, "admin token": admin} {
			code, _, m := gatewaytest.RawCall(t, "POST", tg.URL+"/api/v2/keys/"+keyID, tok, []byte(a.body))
			if code != http.StatusBadRequest || (a.field != "" && m["field"] != a.field) {
				t.Errorf("%s as %s: %d %v, want 400 naming %q", a.name, who, code, m, a.field)
			}
		}
	}
	// With an approval of the plain body, a smuggled variant of it does
	// not run either: the approval stays unused.
	plain := map[string]any{"name": "AttackCMK", "keyProvider": map[string]any{"providerType": "AWS_KMS", "region": lk.Region, "keyArn": arn}, "status": "ACTIVE"}
	id, digest := ka1.Propose("key.bind", keyID, plain, "bind")
	ka2.Must(200, "POST", "/api/v2/approvals/"+id+"/approve", map[string]any{"digest": digest})
	for _, a := range attacks[:2] {
		if code, _, m := gatewaytest.RawCall(t, "POST", tg.URL+"/api/v2/keys/"+keyID, ka1.Token, []byte(a.body), api.HeaderApproval, id); code != http.StatusBadRequest {
			t.Errorf("%s with an approval: %d %v", a.name, code, m)
		}
	}
	if k := ka1.Must(200, "GET", "/api/v2/keys/"+keyID, nil); k["binding"].(map[string]any)["status"] != "UNBOUND" {
		t.Fatalf("key after the attacks: %v", k["binding"])
	}
	events := auditEvents(auditor)
	if n := countEvents(events, "key.bound", ""); n != 0 {
		t.Fatalf("%d key.bound entries after refused binds", n)
	}
	if n := countEvents(events, "gate.refused", "key-admin-1"); n < len(attacks) {
		t.Errorf("%d gate.refused entries of key-admin-1, want at least %d", n, len(attacks))
	}
	if n := countEvents(events, "gate.refused", api.AdminPrincipalID); n < len(attacks) {
		t.Errorf("%d gate.refused entries of the admin token, want at least %d", n, len(attacks))
	}
	// The approved body itself still binds: the strict reader refuses
	// only what could be read two ways.
	if m := ka1.Must(200, "POST", "/api/v2/keys/"+keyID, plain, api.HeaderApproval, id); m["binding"].(map[string]any)["status"] != "BOUND" {
		t.Fatalf("approved bind: %v", m)
	}
}

// TestGateApprovedParamsMismatch: an approval of body A does not run body
// B (another name, another ARN); the refusal is audited and A still runs.
func TestGateApprovedParamsMismatch(t *testing.T) {
	lk := gatewaytest.StartLocalKMS(t)
	tg := startCeremonyGateway(t, lk)
	ka1, ka2, auditor := tg.Principal("key-admin-1"), tg.Principal("key-admin-2"), tg.Principal("auditor-1")
	const keyID = "cmk-mismatch"
	arn := registerCMK(ka1, lk, keyID, "MismatchCMK")
	a := map[string]any{"name": "MismatchCMK", "keyProvider": map[string]any{"providerType": "AWS_KMS", "region": lk.Region, "keyArn": arn}}
	id, digest := ka1.Propose("key.bind", keyID, a, "bind A")
	ka2.Must(200, "POST", "/api/v2/approvals/"+id+"/approve", map[string]any{"digest": digest})
	for _, b := range []map[string]any{
		{"name": "MismatchCMK", "keyProvider": map[string]any{"providerType": "AWS_KMS", "region": lk.Region, "keyArn": lk.ARN("cmk-2")}},
		{"name": "MismatchCMK", "keyProvider": map[string]any{"providerType": "AWS_KMS", "region": lk.Region, "keyArn": arn}, "autoRotate": false},
		{"name": "MismatchCMK"},
	} {
		if code, _, m := ka1.Call("POST", "/api/v2/keys/"+keyID, b, api.HeaderApproval, id); code != http.StatusConflict {
			t.Errorf("body %v under the approval of A: %d %v", b, code, m)
		}
	}
	// Someone else's claim, another operation under the bind approval,
	// and a proposal nobody approved yet.
	ka2.Must(403, "POST", "/api/v2/keys/"+keyID, a, api.HeaderApproval, id)
	ka1.Must(409, "POST", "/api/v2/keys/"+keyID+"/disable", nil, api.HeaderApproval, id)
	pending, _ := ka1.Propose("key.bind", keyID, a, "not approved")
	ka1.Must(409, "POST", "/api/v2/keys/"+keyID, a, api.HeaderApproval, pending)
	if n := countEvents(auditEvents(auditor), "approval.execute", "key-admin-1"); n != 5 {
		t.Fatalf("%d approval.execute refusals of key-admin-1 audited, want 5", n)
	}
	ka1.Must(200, "POST", "/api/v2/keys/"+keyID, a, api.HeaderApproval, id)
}

// failingRecordings fails GetRecording while armed (a transient store
// fault the real database does not show on demand).
type failingRecordings struct {
	store.Store
	armed   *atomic.Int32 // failures left
	partial *atomic.Bool  // answer a record without its key instead of an error
}

func (f failingRecordings) GetRecording(ctx context.Context, id string) (store.Recording, error) {
	if f.armed.Add(-1) >= 0 {
		if f.partial.Load() {
			rec, err := f.Store.GetRecording(ctx, id)
			rec.KeyID = ""
			return rec, err
		}
		return store.Recording{}, errors.New("injected: database connection lost")
	}
	return f.Store.GetRecording(ctx, id)
}

// recordedCall records a short platform-key call and returns its id.
func recordedCall(t *testing.T, tg *gatewaytest.Gateway) string {
	t.Helper()
	s := tg.CreateCall("sales", "caller")
	gatewaytest.NewSender(t, s.Tracks[0].RTP, 9, 440).SendRange(0, 50, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	tg.End(s)
	tg.WaitStored(s.RecordingID)
	return s.RecordingID
}

// TestGatePlaybackStoreFault (hole 3): a failed store read in the
// playback gate refuses (503), nothing is streamed, the refusal is
// audited; the old gate took the error for "no approval needed" and the
// handler's next read streamed the recording.
func TestGatePlaybackStoreFault(t *testing.T) {
	var armed atomic.Int32
	var partial atomic.Bool
	tg := gatewaytest.Start(t, nil, gateway.WithAPIHooks(controlplane.APIHooks{
		Store: func(s store.Store) store.Store { return failingRecordings{Store: s, armed: &armed, partial: &partial} },
	}))
	requester, auditor := tg.Principal("playback-requester-1"), tg.Principal("auditor-1")
	id := recordedCall(t, tg)
	path := "/api/v2/recordings/" + id + "/media?format=wav"
	armed.Store(1) // the gate's read fails, a second read would succeed
	code, body, m := requester.Call("GET", path, nil)
	if code != http.StatusServiceUnavailable || m["code"] != api.CodeGateUnavailable {
		t.Fatalf("playback with the gate's read failing: %d, %d bytes, %v", code, len(body), m)
	}
	if bytes.HasPrefix(body, []byte("RIFF")) {
		t.Fatal("audio streamed")
	}
	// A record read without its key never counts as a platform-key one.
	armed.Store(1)
	partial.Store(true)
	if code, body, m := requester.Call("GET", path, nil); code != http.StatusServiceUnavailable {
		t.Fatalf("playback with a partial record: %d, %d bytes, %v", code, len(body), m)
	}
	armed.Store(0)
	if m := requester.Must(403, "GET", path, nil); m["code"] != api.CodeApprovalRequired {
		t.Fatalf("after the fault: %v", m)
	}
	requester.Must(404, "GET", "/api/v2/recordings/no-such-recording/media", nil)
	events := auditEvents(auditor)
	if n := countEvents(events, "gate.refused", "playback-requester-1"); n != 4 {
		t.Fatalf("%d gate.refused entries for the requester, want 4 (503, 503, 403, 404)", n)
	}
	if n := countEvents(events, "recording.playback", ""); n != 0 {
		t.Fatalf("%d playback entries", n)
	}
}

// TestGateRefusalsAudited (hole 9): every refusal of a gate is an audit
// entry: bind, disable, delete, policy key change and playback without
// approval.
func TestGateRefusalsAudited(t *testing.T) {
	lk := gatewaytest.StartLocalKMS(t)
	tg := startCeremonyGateway(t, lk)
	ka1, pa, auditor := tg.Principal("key-admin-1"), tg.Principal("policy-admin-1"), tg.Principal("auditor-1")
	requester := tg.Principal("playback-requester-1")
	const keyID = "cmk-refusals"
	registerCMK(ka1, lk, keyID, "RefusalsCMK")
	ka1.Must(403, "POST", "/api/v2/keys/"+keyID, map[string]any{"name": "RefusalsCMK"})
	ka1.Must(403, "POST", "/api/v2/keys/"+keyID+"/disable", nil)
	ka1.Must(403, "POST", "/api/v2/keys/"+keyID+"/deletion", nil)
	// A policy may name only a bound key (an unbound one is a 400 before
	// any gate): bind it with the quorum, then try the policy alone.
	bind := map[string]any{"name": "RefusalsCMK"}
	bid, digest := ka1.Propose("key.bind", keyID, bind, "refusals test")
	tg.Principal("key-admin-2").Must(200, "POST", "/api/v2/approvals/"+bid+"/approve", map[string]any{"digest": digest})
	ka1.Must(200, "POST", "/api/v2/keys/"+keyID, bind, api.HeaderApproval, bid)
	pa.Must(403, "POST", "/api/v2/recordings/policies", map[string]any{"id": "pci", "name": "PCI", "recordingType": "AUDIO",
		"encryptionKeyReference": map[string]any{"keyId": keyID, "providerType": "AWS_KMS"}, "targetType": "QUEUE",
		"targetIds": []string{"pci"}, "status": "ENABLED"})
	id := recordedCall(t, tg)
	requester.Must(403, "GET", "/api/v2/recordings/"+id+"/media", nil)
	ops := map[string]bool{}
	for _, e := range auditEvents(auditor) {
		if e["action"] == "gate.refused" && e["outcome"] == "refused" {
			d := e["details"].(map[string]any)
			ops[fmt.Sprint(e["actor"], " ", d["operation"])] = true
			if !strings.Contains(fmt.Sprint(d["reason"]), api.CodeApprovalRequired) {
				t.Errorf("refusal without its reason: %v", e)
			}
		}
	}
	for _, want := range []string{"key-admin-1 key.bind", "key-admin-1 key.disable", "key-admin-1 key.delete",
		"policy-admin-1 policy.encryption_key", "playback-requester-1 recording.playback"} {
		if !ops[want] {
			t.Errorf("no gate.refused entry for %s (have %v)", want, ops)
		}
	}
}

// TestAdminTokenNeverInQuorum (hole 9): the bootstrap admin token is a
// clear, audited 403 when it proposes, approves, vetoes or executes a
// gated operation (approve and veto were 500s, propose a missing scope).
func TestAdminTokenNeverInQuorum(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	ka1, auditor := tg.Principal("key-admin-1"), tg.Principal("auditor-1")
	admin := adminToken(t, tg)
	id := recordedCall(t, tg)
	pid, digest := tg.Principal("playback-requester-1").Propose("recording.playback", id, nil, "dispute")
	post := func(path string, body any, header ...string) (int, map[string]any) {
		code, _, m := gatewaytest.RawCall(t, "POST", tg.URL+path, admin, body, header...)
		return code, m
	}
	for name, c := range map[string]func() (int, map[string]any){
		"propose": func() (int, map[string]any) {
			return post("/api/v2/approvals", map[string]any{"operation": "recording.playback", "target": id, "reason": "x"})
		},
		"approve": func() (int, map[string]any) {
			return post("/api/v2/approvals/"+pid+"/approve", map[string]any{"digest": digest})
		},
		"veto": func() (int, map[string]any) {
			return post("/api/v2/approvals/"+pid+"/veto", map[string]any{"reason": "x"})
		},
		"execute": func() (int, map[string]any) {
			return post("/api/v2/keys/platform/disable", nil, api.HeaderApproval, pid)
		},
	} {
		code, m := c()
		if code != http.StatusForbidden || !strings.Contains(fmt.Sprint(m["message"]), "never takes part in a quorum") {
			t.Errorf("admin token %s: %d %v", name, code, m)
		}
	}
	if m := ka1.Must(200, "GET", "/api/v2/approvals/"+pid, nil); m["status"] != "PENDING" {
		t.Fatalf("proposal after the admin token's attempts: %v", m["status"])
	}
	events := auditEvents(auditor)
	for _, action := range []string{"approval.propose", "approval.approve", "approval.veto", "gate.refused"} {
		if countEvents(events, action, api.AdminPrincipalID) != 1 {
			t.Errorf("no %s refusal of the admin token audited", action)
		}
	}
}

// TestPlaybackAuditOutlivesRequest (hole 11): a requester that hangs up
// mid-download is still in the audit log. The exporter is wrapped to
// hold the response open until the requester has gone (a slow download).
func TestPlaybackAuditOutlivesRequest(t *testing.T) {
	tg := gatewaytest.Start(t, nil, gateway.WithAPIHooks(controlplane.APIHooks{
		Exporter: func(e api.Exporter) api.Exporter { return slowExporter{e} },
	}))
	requester, auditor := tg.Principal("playback-requester-1"), tg.Principal("auditor-1")
	id := recordedCall(t, tg)
	pid, digest := requester.Propose("recording.playback", id, nil, "dispute")
	tg.Principal("key-admin-1").Must(200, "POST", "/api/v2/approvals/"+pid+"/approve", map[string]any{"digest": digest})
	tg.Principal("key-admin-2").Must(200, "POST", "/api/v2/approvals/"+pid+"/approve", map[string]any{"digest": digest})
	req, _ := http.NewRequest("GET", tg.URL+"/api/v2/recordings/"+id+"/media?format=wav", nil)
	req.Header.Set("Authorization", "Bearer "+requester.Token)
	req.Header.Set(api.HeaderApproval, pid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 4)
	if _, err := io.ReadFull(resp.Body, head); err != nil || string(head) != "RIFF" {
		t.Fatalf("first bytes %q: %v (status %d)", head, err, resp.StatusCode)
	}
	resp.Body.Close() // hang up mid-download
	deadline := time.Now().Add(10 * time.Second)
	for countEvents(auditEvents(auditor), "recording.playback", "playback-requester-1") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no recording.playback entry after the requester hung up")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// slowExporter streams the real export, then keeps the download open
// until the requester hangs up (or 10 s pass).
type slowExporter struct{ api.Exporter }

func (s slowExporter) ExportRecording(ctx context.Context, req api.ExportRequest, w io.Writer) (api.ExportReport, error) {
	rep, err := s.Exporter.ExportRecording(ctx, req, w)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
	}
	return rep, err
}

// TestAuthFailuresAggregated (hole 11): 200 bad bearer tokens, 200 token
// requests with random client ids and 50 wrong secrets of one client are
// all counted in mediaseal_auth_failures_total, but write one audit entry
// per source address or client per interval; the counts of the rest are
// written when the interval ends (here: on shutdown), so none is lost.
func TestAuthFailuresAggregated(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	auditor := tg.Principal("auditor-1")
	before := auditEvents(auditor)
	for i := range 200 {
		code, _, _ := gatewaytest.RawCall(t, "GET", tg.URL+"/api/v2/keys", fmt.Sprintf("bad-token-%d", i), nil)
		if code != http.StatusUnauthorized {
			t.Fatalf("bad token: %d", code)
		}
	}
	tokenReq := func(id, secret string) int {
		body, _ := json.Marshal(map[string]any{"grantType": "client_credentials", "applicationId": id, "clientSecret": secret})
		resp, err := http.Post(tg.URL+"/api/v2/oauth/tokens", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 200 {
		if code := tokenReq(fmt.Sprintf("attacker-%d", i), "guess"); code != http.StatusUnauthorized {
			t.Fatalf("unknown client: %d", code)
		}
	}
	for range 50 {
		tokenReq("key-admin-1", "wrong-secret")
	}
	fams := gatewaytest.Scrape(t, tg.URL)
	f := fams["mediaseal_auth_failures_total"]
	if f == nil {
		t.Fatal("no mediaseal_auth_failures_total")
	}
	if got := gatewaytest.CounterWith(f, map[string]string{"kind": "bearer_token"}); got != 200 {
		t.Errorf("bearer_token failures %v, want 200", got)
	}
	if got := gatewaytest.CounterWith(f, map[string]string{"kind": "client_secret"}); got != 250 {
		t.Errorf("client_secret failures %v, want 250", got)
	}
	after := auditEvents(auditor)[len(before):]
	refused := countEvents(after, "access.refused", "system") + countEvents(after, "token.refused", "")
	if refused > 4 {
		t.Fatalf("%d audit entries for 450 failed authentications, want one per source or client (3)", refused)
	}
	// Shutdown flushes the aggregates: the counts add up.
	tg.Shutdown()
	st, err := store.Open(context.Background(), store.Config{SQLitePath: tg.Config().SQLitePath()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.DB().Query(`SELECT action, details FROM audit_events WHERE action IN ('access.refused', 'token.refused')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	sum := map[string]float64{}
	for rows.Next() {
		var action, details string
		if err := rows.Scan(&action, &details); err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		_ = json.Unmarshal([]byte(details), &d)
		if c, ok := d["count"].(float64); ok {
			sum[fmt.Sprint(d["kind"], " ", d["key"])] += c
		}
	}
	for k, want := range map[string]float64{"bearer_token 127.0.0.1": 200, "client_secret 127.0.0.1": 200, "client_secret key-admin-1": 50} {
		if sum[k] != want {
			t.Errorf("audited count of %s: %v, want %v (all %v)", k, sum[k], want, sum)
		}
	}
}
