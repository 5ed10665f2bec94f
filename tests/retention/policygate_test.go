package retention_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// params is the approval parameters of a policy write (api.PolicyApprovalParams).
func params(t *testing.T, body map[string]any, version int64) json.RawMessage {
	t.Helper()
	raw, _ := json.Marshal(body)
	var p policy.Policy
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	out, err := api.PolicyApprovalParams(p, version)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A policy writer alone cannot make recordings to come be deleted
// sooner: shortening a policy's retention, a new policy taking a queue
// with a shorter one, or deleting one whose queue falls to a shorter org
// default needs a policy.retention approval (legal officer or key
// administrator). Lengthening needs none, and the approval is bound to
// the exact policy approved.
func TestShorterRetentionNeedsQuorum(t *testing.T) {
	gw := gatewaytest.Start(t, func(c *config.Config) { c.Recording.RetentionDays = 90 })
	pa, legal := gw.Principal("policy-admin-1"), gw.Principal("legal-officer-1")
	body := func(days int, queue string) map[string]any {
		return map[string]any{"id": "ret-" + queue, "name": "Retention " + queue, "recordingType": "AUDIO", "targetType": "QUEUE",
			"targetIds": []string{queue}, "status": "ENABLED", "retentionDays": days,
			"encryptionKeyReference": map[string]any{"keyId": "platform", "providerType": "PLATFORM"}}
	}
	put := func(days int, version int64) map[string]any {
		b := body(days, "pci")
		b["version"] = version
		return b
	}
	// Longer than the org default: no quorum.
	pa.Must(201, "POST", "/api/v2/recordings/policies", body(365, "pci"))
	pa.Must(200, "PUT", "/api/v2/recordings/policies/ret-pci", put(3650, 1))
	// Shorter: refused without an approval, whichever way it is tried.
	for _, m := range []map[string]any{
		pa.Must(403, "PUT", "/api/v2/recordings/policies/ret-pci", put(30, 2)),
		pa.Must(403, "PUT", "/api/v2/recordings/policies/ret-pci", put(0, 2)),                 // to the 90-day org default
		pa.Must(403, "DELETE", "/api/v2/recordings/policies/ret-pci", nil, "If-Match", `"2"`), // the queue falls to the org default
		pa.Must(403, "POST", "/api/v2/recordings/policies", body(7, "sales")),                 // the queue had the 90-day default
	} {
		if m["code"] != "approval_required" || !strings.Contains(fmt.Sprint(m["message"]), "policy.retention") {
			t.Errorf("refusal %v, want approval_required naming policy.retention", m)
		}
	}
	got := pa.Must(200, "GET", "/api/v2/recordings/policies/ret-pci", nil)
	if got["retentionDays"] != float64(3650) {
		t.Fatalf("refused writes changed the policy: %v", got)
	}
	version := int64(got["version"].(float64))

	// Approved for 30 days, the writer cannot apply 1 day with it.
	id, digest := pa.Propose("policy.retention", "ret-pci", params(t, body(30, "pci"), version), "regulator allows 30 days")
	pa.Must(403, "POST", "/api/v2/approvals/"+id+"/approve", map[string]any{"digest": digest}) // not its own
	legal.Must(200, "POST", "/api/v2/approvals/"+id+"/approve", map[string]any{"digest": digest})
	pa.Must(409, "PUT", "/api/v2/recordings/policies/ret-pci", put(1, version), api.HeaderApproval, id)
	pa.Must(200, "PUT", "/api/v2/recordings/policies/ret-pci", put(30, version), api.HeaderApproval, id)
	if got := pa.Must(200, "GET", "/api/v2/recordings/policies/ret-pci", nil); got["retentionDays"] != float64(30) {
		t.Fatalf("approved write not applied: %v", got)
	}
}
