package ceremony_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/gateway"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// storedRule finds op in GET /api/v2/ceremony/quorum.
func storedRule(t *testing.T, p *gatewaytest.Principal, op string) map[string]any {
	t.Helper()
	m := p.Must(200, "GET", "/api/v2/ceremony/quorum", nil)
	for _, r := range m["rules"].([]any) {
		if r := r.(map[string]any); r["operation"] == op {
			return r
		}
	}
	t.Fatalf("no rule for %s in %v", op, m)
	return nil
}

// tryStartGateway starts a gateway like startGateway but returns the
// error of a start that fails.
func tryStartGateway(t *testing.T, edit func(*config.Config)) (*gatewaytest.Gateway, error) {
	t.Helper()
	cfg := gatewaytest.Config(t, edit)
	ctx, cancel := context.WithCancel(context.Background())
	g, err := gateway.New(ctx, cfg, zaptest.NewLogger(t))
	if err != nil {
		cancel()
		return nil, err
	}
	tg := &gatewaytest.Gateway{Gateway: g, T: t, Stop: cancel, Done: make(chan error, 1)}
	go func() { tg.Done <- g.Run(ctx) }()
	select {
	case <-g.Ready():
	case err := <-tg.Done:
		cancel()
		g.Close()
		return nil, err
	}
	tg.URL = "http://" + g.Addr()
	t.Cleanup(func() { tg.Shutdown() })
	return tg, nil
}

// TestQuorumRulesSharedStore: two gateways on one PostgreSQL database. The
// rules live in the database: a gateway whose config is laxer (or merely
// different) than the stored rules is refused at start, naming the
// operation, the field and both values; one with no quorum section starts
// and enforces the stored rules. A rule change needs the strictest quorum
// held, one principal alone never suffices, and once applied through A it
// is what B enforces on its very next request.
func TestQuorumRulesSharedStore(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	keyring := t.TempDir()
	shared := func(extra func(*config.Config)) func(*config.Config) {
		return func(c *config.Config) {
			c.Store = config.Store{Driver: "postgres", DSN: dsn}
			c.KMS.Local.Dir = keyring // the control plane's keys are wrapped under the shared platform key
			if extra != nil {
				extra(c)
			}
		}
	}
	a := gatewaytest.Start(t, shared(nil))
	off, on1 := false, 1
	for name, tc := range map[string]struct {
		edit func(*config.Config)
		want []string
	}{
		"laxer playback quorum": {func(c *config.Config) {
			c.Ceremony.Quorum = map[string]config.QuorumRule{approvals.OpPlayback: {Approvals: on1}}
		}, []string{"ceremony.quorum.recording.playback.approvals", "is 1", "rule is 2"}},
		"no platform playback quorum": {func(c *config.Config) { c.Ceremony.PlatformPlaybackQuorum = &off },
			[]string{"ceremony.platformPlaybackQuorum", "is false", "rule is true"}},
		"other eligible roles": {func(c *config.Config) {
			c.Ceremony.Quorum = map[string]config.QuorumRule{approvals.OpKeyBind: {EligibleRoles: []string{"approver"}}}
		}, []string{"ceremony.quorum.key.bind.eligibleRoles", "[approver]", "[key_admin]"}},
		"shorter delete delay": {func(c *config.Config) {
			d := config.Duration(time.Second)
			c.Ceremony.Quorum = map[string]config.QuorumRule{approvals.OpKeyDelete: {Delay: &d}}
		}, []string{"ceremony.quorum.key.delete.delay", "is 1s", "rule is 168h0m0s"}},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := tryStartGateway(t, shared(tc.edit))
			if err == nil {
				b.Shutdown()
				t.Fatal("a gateway whose config disagrees with the shared rules started")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("start refused with %q, want it to name %q", err, w)
				}
			}
		})
	}
	// The same values as the store, or none at all: accepted.
	b := gatewaytest.Start(t, shared(func(c *config.Config) {
		two := 2
		c.Ceremony.Quorum = map[string]config.QuorumRule{approvals.OpPlayback: {Approvals: two}}
	}))

	ka1, auditor := a.Principal("key-admin-1"), a.Principal("auditor-1")
	if r := storedRule(t, gatewaytest.Via(b, auditor), approvals.OpPlayback); r["approvals"] != 2.0 || r["platformPlayback"] != true || r["version"] != 1.0 {
		t.Fatalf("B shows the playback rule %v", r)
	}
	// A platform-key recording on B needs the playback quorum.
	s := b.CreateCall("sales", "caller")
	gatewaytest.NewSender(t, s.Tracks[0].RTP, 7, 440).SendRange(0, 25, 5*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	b.End(s)
	b.WaitStored(s.RecordingID)
	requester := gatewaytest.Via(b, a.Principal("playback-requester-1"))
	requester.Must(403, "GET", "/api/v2/recordings/"+s.RecordingID+"/media?format=wav", nil)

	// One principal alone: no approval, its own approval, one approval of two.
	lax := gatewaytest.PlaybackRule(1, false)
	ka1.Must(403, "PUT", "/api/v2/ceremony/quorum/recording.playback", lax)
	id, digest := ka1.Propose(gatewaytest.OpQuorum, approvals.OpPlayback, lax, "fewer approvals")
	if m := ka1.Must(200, "GET", "/api/v2/approvals/"+id, nil); m["required"] != 2.0 {
		t.Fatalf("a rule change needs %v approvals, want the strictest rule's 2", m["required"])
	}
	ka1.Must(403, "POST", "/api/v2/approvals/"+id+"/approve", map[string]any{"digest": digest})
	ka1.Must(409, "PUT", "/api/v2/ceremony/quorum/recording.playback", lax, "X-Approval-Id", id)
	a.Principal("key-admin-2").Must(200, "POST", "/api/v2/approvals/"+id+"/approve", map[string]any{"digest": digest})
	ka1.Must(409, "PUT", "/api/v2/ceremony/quorum/recording.playback", lax, "X-Approval-Id", id)
	a.Principal("policy-admin-1").Must(200, "POST", "/api/v2/approvals/"+id+"/approve", map[string]any{"digest": digest})
	// Another principal cannot run it; another body is not what was approved.
	a.Principal("key-admin-2").Must(403, "PUT", "/api/v2/ceremony/quorum/recording.playback", lax, "X-Approval-Id", id)
	laxer := gatewaytest.PlaybackRule(1, false)
	laxer["eligibleRoles"] = []string{"approver"}
	ka1.Must(409, "PUT", "/api/v2/ceremony/quorum/recording.playback", laxer, "X-Approval-Id", id)
	// Nor another operation's rule with this approval.
	ka1.Must(409, "PUT", "/api/v2/ceremony/quorum/key.bind", map[string]any{"approvals": 1, "of": 1, "eligibleRoles": []string{"key_admin"},
		"delay": "0s", "vetoers": []string{"auditor", "key_admin"}}, "X-Approval-Id", id)
	// With the quorum, through A.
	got := ka1.Must(200, "PUT", "/api/v2/ceremony/quorum/recording.playback", lax, "X-Approval-Id", id)
	if got["approvals"] != 1.0 || got["platformPlayback"] != false || got["version"] != 2.0 || got["approvalId"] != id {
		t.Fatalf("applied rule %v", got)
	}
	ka1.Must(409, "PUT", "/api/v2/ceremony/quorum/recording.playback", lax, "X-Approval-Id", id) // single use
	// B enforces it at once: platform-key playback needs no quorum now.
	if r := storedRule(t, gatewaytest.Via(b, auditor), approvals.OpPlayback); r["approvals"] != 1.0 || r["version"] != 2.0 {
		t.Fatalf("B shows %v", r)
	}
	if code, raw, _ := requester.Call("GET", "/api/v2/recordings/"+s.RecordingID+"/media?format=wav", nil); code != 200 {
		t.Fatalf("B after the change: %d %s", code, raw)
	}
	seen := gatewaytest.AuditSeen(auditor)
	for _, w := range []string{"ceremony.quorum.seeded/system/success", "ceremony.quorum.changed/key-admin-1/success",
		"ceremony.quorum.refused/key-admin-1/refused", "approval.executed/key-admin-1/success"} {
		if !seen[w] {
			t.Errorf("audit log lacks %s", w)
		}
	}
	// A gateway with the old, stricter file is now the one refused.
	if _, err := tryStartGateway(t, shared(func(c *config.Config) {
		tr := true
		c.Ceremony.PlatformPlaybackQuorum = &tr
	})); err == nil || !strings.Contains(err.Error(), "ceremony.platformPlaybackQuorum is true but the shared store's rule is false") {
		t.Fatalf("start with the old file: %v", err)
	}
}

// TestQuorumRuleChangeLimits: a rule change can never lower its own
// quorum with fewer approvals than it needs now, never go below the
// floors, never lock the ceremony out, and its body is decoded strictly.
func TestQuorumRuleChangeLimits(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	ka1 := tg.Principal("key-admin-1")
	own := map[string]any{"approvals": 1, "of": 1, "eligibleRoles": []string{"key_admin", "policy_admin"}, "delay": "0s", "vetoers": []string{"key_admin"}}
	// Lowering ceremony.quorum itself takes its current 2 approvals.
	id, digest := ka1.Propose(gatewaytest.OpQuorum, gatewaytest.OpQuorum, own, "lower the rule-change quorum")
	if m := ka1.Must(200, "GET", "/api/v2/approvals/"+id, nil); m["required"] != 2.0 {
		t.Fatalf("lowering ceremony.quorum needs %v approvals", m["required"])
	}
	tg.Principal("key-admin-2").Must(200, "POST", "/api/v2/approvals/"+id+"/approve", map[string]any{"digest": digest})
	ka1.Must(409, "PUT", "/api/v2/ceremony/quorum/ceremony.quorum", own, "X-Approval-Id", id)
	// Even with ceremony.quorum's own rule at 1, a change needs the
	// strictest rule held (playback: 2).
	gatewaytest.ChangeQuorumRule(t, tg, tg, gatewaytest.OpQuorum, own)
	id, _ = ka1.Propose(gatewaytest.OpQuorum, approvals.OpPlayback, gatewaytest.PlaybackRule(1, true), "fewer playback approvals")
	if m := ka1.Must(200, "GET", "/api/v2/approvals/"+id, nil); m["required"] != 2.0 {
		t.Fatalf("a change while playback needs 2 needs %v approvals", m["required"])
	}

	for name, params := range map[string]any{
		"no approval":               gatewaytest.PlaybackRule(0, true),
		"of below approvals":        map[string]any{"approvals": 2, "of": 1, "eligibleRoles": []string{"key_admin"}, "delay": "0s", "vetoers": []string{"auditor"}, "platformPlayback": true},
		"requester approves":        map[string]any{"approvals": 1, "of": 1, "eligibleRoles": []string{"playback_requester"}, "delay": "0s", "vetoers": []string{"auditor"}, "platformPlayback": true},
		"auditor approves":          map[string]any{"approvals": 1, "of": 1, "eligibleRoles": []string{"auditor"}, "delay": "0s", "vetoers": []string{"auditor"}, "platformPlayback": true},
		"no vetoers":                map[string]any{"approvals": 1, "of": 1, "eligibleRoles": []string{"key_admin"}, "delay": "0s", "vetoers": []string{}, "platformPlayback": true},
		"delay on playback":         map[string]any{"approvals": 1, "of": 1, "eligibleRoles": []string{"key_admin"}, "delay": "1h", "vetoers": []string{"auditor"}, "platformPlayback": true},
		"field left out":            map[string]any{"approvals": 1, "of": 1, "eligibleRoles": []string{"key_admin"}, "vetoers": []string{"auditor"}, "platformPlayback": true},
		"unknown field":             map[string]any{"approvals": 1, "of": 1, "eligibleRoles": []string{"key_admin"}, "delay": "0s", "vetoers": []string{"auditor"}, "platformPlayback": true, "note": "x"},
		"impossible (lock-out)":     gatewaytest.PlaybackRule(5, true),
		"too many for rule changes": map[string]any{"approvals": 3, "of": 3, "eligibleRoles": []string{"approver", "key_admin", "policy_admin"}, "delay": "0s", "vetoers": []string{"auditor"}, "platformPlayback": true},
	} {
		code, raw, _ := ka1.Call("POST", "/api/v2/approvals", map[string]any{"operation": gatewaytest.OpQuorum,
			"target": approvals.OpPlayback, "parameters": params, "reason": name})
		if code != 400 && code != 409 {
			t.Errorf("%s: proposal answered %d %s", name, code, raw)
		}
	}
	// platformPlayback belongs to the playback rule only; unknown operations have none.
	for _, op := range []string{approvals.OpKeyBind, "key.export"} {
		code, raw, _ := ka1.Call("POST", "/api/v2/approvals", map[string]any{"operation": gatewaytest.OpQuorum, "target": op,
			"parameters": gatewaytest.PlaybackRule(1, true), "reason": "x"})
		if code != 400 {
			t.Errorf("rule for %s: %d %s", op, code, raw)
		}
	}
	// A rule raised after an operation was approved stops it: a bind
	// approved by one key administrator does not run once key.bind needs two.
	bind := map[string]any{"name": "K"}
	bid, bdigest := ka1.Propose(approvals.OpKeyBind, "k-raised", bind, "bind under the old rule")
	tg.Principal("key-admin-2").Must(200, "POST", "/api/v2/approvals/"+bid+"/approve", map[string]any{"digest": bdigest})
	gatewaytest.ChangeQuorumRule(t, tg, tg, approvals.OpKeyBind, map[string]any{"approvals": 2, "of": 2, "eligibleRoles": []string{"key_admin", "policy_admin"},
		"delay": "0s", "vetoers": []string{"auditor", "key_admin"}})
	if code, raw, _ := ka1.Call("POST", "/api/v2/keys/k-raised", bind, "X-Approval-Id", bid); code != 409 || !strings.Contains(string(raw), "rule changed") {
		t.Fatalf("bind approved under the old rule: %d %s", code, raw)
	}

	// Duplicated or case-folded fields in the PUT body: 400, no claim.
	for _, body := range []string{
		`{"approvals":1,"approvals":1,"of":1,"eligibleRoles":["key_admin"],"delay":"0s","vetoers":["key_admin"]}`,
		`{"Approvals":1,"of":1,"eligibleRoles":["key_admin"],"delay":"0s","vetoers":["key_admin"]}`,
		"{\"approvals\":1,\"of\":1,\"eligibleRoles\":[\"key_admin\xff\"],\"delay\":\"0s\",\"vetoers\":[\"key_admin\"]}",
	} {
		code, raw := rawBody(t, "PUT", tg.URL+"/api/v2/ceremony/quorum/ceremony.quorum", ka1.Token, body, "X-Approval-Id", id)
		if code != 400 {
			t.Errorf("body %q: %d %s", body, code, raw)
		}
	}
}

// rawBody sends body as is.
func rawBody(t *testing.T, method, u, token, body string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, string(m)
}
