package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/policy"
)

func (tg *testGateway) admin(method, path string, body any, out any) int {
	tg.t.Helper()
	tok, err := os.ReadFile(filepath.Join(tg.cfg.DataDir, "admin.token"))
	if err != nil {
		tg.t.Fatal(err)
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, tg.url+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tg.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// TestPolicyChangeAppliesToNextSessionOnly creates a policy through the
// control-plane API: the next session on that queue uses it, while a call
// already running keeps the policy version it started with.
func TestPolicyChangeAppliesToNextSessionOnly(t *testing.T) {
	tg := startGateway(t, func(c *config.Config) {
		c.Policies = []policy.Policy{{ID: "base", Name: "base", RecordingType: policy.RecordingAudio, TargetIDs: []string{"other"}}}
		c.Policies[0].Normalize()
	})
	before := tg.createCall("support", "caller")
	if before.Recorded {
		t.Fatal("queue support recorded before any policy covers it")
	}
	var created map[string]any
	body := map[string]any{
		"name": "Support", "recordingType": "AUDIO", "targetType": "QUEUE", "targetIds": []string{"support"},
		"status": "ENABLED", "conditions": map[string]any{"direction": "INBOUND", "callerIdPattern": nil, "timeWindow": nil},
	}
	code := tg.admin("POST", "/api/v2/recordings/policies", body, &created)
	if code != http.StatusCreated {
		t.Fatalf("create policy: %d %v", code, created)
	}
	running := tg.createCall("support", "caller")
	if !running.Recorded || running.PolicyID != created["id"] {
		t.Fatalf("new policy not applied: %+v (policy %v)", running, created["id"])
	}
	// Disable it: the running call keeps recording; the next one is not recorded.
	body["status"], body["version"] = "DISABLED", created["version"]
	var updated map[string]any
	if code := tg.admin("PUT", "/api/v2/recordings/policies/"+created["id"].(string), body, &updated); code != http.StatusOK {
		t.Fatalf("update policy: %d %v", code, updated)
	}
	if next := tg.createCall("support", "caller"); next.Recorded {
		t.Fatal("disabled policy still applied to a new session")
	}
	newSender(t, running.Tracks[0].RTP, 3, 440).sendRange(0, 10, 0)
	if sum := tg.end(running); sum.Status != "COMPLETE" || sum.Records < 10 {
		t.Fatalf("running session after the change: %+v", sum)
	}
	rec, err := tg.index.GetRecording(t.Context(), running.RecordingID)
	if err != nil || rec.PolicyVersion != 1 {
		t.Fatalf("recording keeps policy version 1: %+v %v", rec, err)
	}
}
