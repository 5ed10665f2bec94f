package ceremony_test

import (
	"net/http"
	"testing"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestPolicyChangeAppliesToNextSessionOnly creates a policy through the
// control-plane API: the next session on that queue uses it, while a call
// already running keeps the policy version it started with.
func TestPolicyChangeAppliesToNextSessionOnly(t *testing.T) {
	tg := gatewaytest.Start(t, func(c *config.Config) {
		c.Policies = []policy.Policy{{ID: "base", Name: "base", RecordingType: policy.RecordingAudio, TargetIDs: []string{"other"}}}
		c.Policies[0].Normalize()
	})
	before := tg.CreateCall("support", "caller")
	if before.Recorded {
		t.Fatal("queue support recorded before any policy covers it")
	}
	var created map[string]any
	body := map[string]any{
		"name": "Support", "recordingType": "AUDIO", "targetType": "QUEUE", "targetIds": []string{"support"},
		"status": "ENABLED", "conditions": map[string]any{"direction": "INBOUND", "callerIdPattern": nil, "timeWindow": nil},
	}
	code := tg.Admin("POST", "/api/v2/recordings/policies", body, &created)
	if code != http.StatusCreated {
		t.Fatalf("create policy: %d %v", code, created)
	}
	running := tg.CreateCall("support", "caller")
	if !running.Recorded || running.PolicyID != created["id"] {
		t.Fatalf("new policy not applied: %+v (policy %v)", running, created["id"])
	}
	// Disable it: the running call keeps recording; the next one is not recorded.
	body["status"], body["version"] = "DISABLED", created["version"]
	var updated map[string]any
	if code := tg.Admin("PUT", "/api/v2/recordings/policies/"+created["id"].(string), body, &updated); code != http.StatusOK {
		t.Fatalf("update policy: %d %v", code, updated)
	}
	if next := tg.CreateCall("support", "caller"); next.Recorded {
		t.Fatal("disabled policy still applied to a new session")
	}
	gatewaytest.NewSender(t, running.Tracks[0].RTP, 3, 440).SendRange(0, 10, 0)
	if sum := tg.End(running); sum.Status != "COMPLETE" || sum.Records < 10 {
		t.Fatalf("running session after the change: %+v", sum)
	}
	rec, err := tg.Store().GetRecording(t.Context(), running.RecordingID)
	if err != nil || rec.PolicyVersion != 1 {
		t.Fatalf("recording keeps policy version 1: %+v %v", rec, err)
	}
}
