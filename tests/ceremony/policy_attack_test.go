package ceremony_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// policyParams is the approval parameters the gate expects for a create
// (version 0) or update (version = current) of body.
func policyParams(t testing.TB, body any, version int64) json.RawMessage {
	t.Helper()
	raw, _ := json.Marshal(body)
	var p policy.Policy
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	params, err := api.PolicyApprovalParams(p, version)
	if err != nil {
		t.Fatal(err)
	}
	return params
}

// withPolicyAttackSetup: queue "pci" under the bound local-keyring
// customer key "cust-key" (labelled PLATFORM like every local key),
// FAIL_CLOSED; a DISABLED old platform policy on "pci"; a platform policy
// on "sales"; a bound AWS-type key and an unbound local customer key.
func withPolicyAttackSetup(t *testing.T) func(*config.Config) {
	return func(c *config.Config) {
		kr, err := local.Open(c.KeyringDir(), c.Org.Region)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"cust", "cust2"} {
			if err := kr.EnsureKey(k); err != nil {
				t.Fatal(err)
			}
		}
		keys := []config.Key{{ID: "cust-key", Name: "CustomerKey", ProviderType: policy.ProviderPlatform, ProviderKeyID: "cust", Region: c.Org.Region},
			{ID: "aws-key", Name: "AWSKey", ProviderType: "AWS_KMS", ProviderKeyID: "arn:aws:kms:" + c.Org.Region + ":111122223333:key/x", Region: c.Org.Region}}
		pci := policy.Policy{ID: "pci", Name: "PCI", RecordingType: policy.RecordingAudio, OnKeyUnavailable: policy.OnKeyUnavailableFailClosed,
			EncryptionKeyReference: &policy.KeyReference{KeyID: "cust-key", ProviderType: policy.ProviderPlatform}, TargetIDs: []string{"pci"}}
		old := policy.Policy{ID: "old-plat", Name: "Old", RecordingType: policy.RecordingAudio, TargetIDs: []string{"pci"},
			Status: policy.StatusDisabled, Conditions: policy.Conditions{Direction: policy.DirectionInbound}}
		sales := policy.Policy{ID: "plat-sales", Name: "Sales", RecordingType: policy.RecordingAudio, TargetIDs: []string{"sales"}}
		for _, p := range []*policy.Policy{&pci, &old, &sales} {
			p.Normalize()
		}
		gatewaytest.CeremonyDone(t, c, keys, pci, old, sales)
		st, err := store.Open(context.Background(), store.Config{SQLitePath: c.SQLitePath()})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, err := st.CreateKey(context.Background(), store.Key{ID: "cust2-key", Name: "Unbound", KeyType: policy.ProviderPlatform,
			Region: c.Org.Region, Ref: "cust2", State: string(kms.StateEnabled)}); err != nil {
			t.Fatal(err)
		}
	}
}

func policySnapshot(p *gatewaytest.Principal) string {
	p.TG.T.Helper()
	m := p.Must(200, "GET", "/api/v2/recordings/policies", nil)
	var out []string
	for _, e := range m["entities"].([]any) {
		pm := e.(map[string]any)
		out = append(out, fmt.Sprintf("%s@%v:%v", pm["id"], pm["version"], pm["status"]))
	}
	return fmt.Sprint(out)
}

func policyBody(p *gatewaytest.Principal, id string) map[string]any {
	p.TG.T.Helper()
	m := p.Must(200, "GET", "/api/v2/recordings/policies/"+id, nil)
	delete(m, "createdAt")
	delete(m, "updatedAt")
	return m
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// TestPolicyAdminCannotMoveQueueOffCustomerKey: one policy administrator,
// without a key administrator's approval, cannot take the "pci" queue off
// its customer key (or weaken it) by any policy write; with the approval
// exactly the approved change runs.
func TestPolicyAdminCannotMoveQueueOffCustomerKey(t *testing.T) {
	tg := gatewaytest.Start(t, withPolicyAttackSetup(t))
	pa, ka := tg.Principal("policy-admin-1"), tg.Principal("key-admin-2")
	pci := policyBody(pa, "pci")
	sales := policyBody(pa, "plat-sales")
	old := policyBody(pa, "old-plat")
	before := policySnapshot(pa)
	platCreate := map[string]any{"name": "hijack", "recordingType": "AUDIO", "targetIds": []string{"pci"}}
	ifMatch := func(m map[string]any) []string { return []string{"If-Match", fmt.Sprint(m["version"])} }

	type attempt struct {
		name, method, path string
		body               map[string]any
		header             []string
	}
	attempts := []attempt{
		{"more specific platform policy", "POST", "/api/v2/recordings/policies", with(platCreate, "id", "hijack",
			"conditions", map[string]any{"direction": "INBOUND"}), nil},
		{"tie-break (priority) bump", "POST", "/api/v2/recordings/policies", with(platCreate, "id", "a-first"), nil},
		{"platform-labelled customer key on another queue", "POST", "/api/v2/recordings/policies", with(platCreate, "id", "ck-sales",
			"targetIds", []string{"sales"}, "encryptionKeyReference", map[string]any{"keyId": "cust-key", "providerType": "PLATFORM"}), nil},
		{"caller-id condition", "PUT", "/api/v2/recordings/policies/pci", with(pci, "conditions", map[string]any{"callerIdPattern": `^\+1`}), ifMatch(pci)},
		{"direction condition", "PUT", "/api/v2/recordings/policies/pci", with(pci, "conditions", map[string]any{"direction": "OUTBOUND"}), ifMatch(pci)},
		{"DISABLED", "PUT", "/api/v2/recordings/policies/pci", with(pci, "status", "DISABLED"), ifMatch(pci)},
		{"FAIL_CLOSED to PLATFORM_KEY", "PUT", "/api/v2/recordings/policies/pci", with(pci, "onKeyUnavailable", "PLATFORM_KEY"), ifMatch(pci)},
		{"recordingType NONE", "PUT", "/api/v2/recordings/policies/pci", with(pci, "recordingType", "NONE"), ifMatch(pci)},
		{"recordingType AUDIO_AND_VIDEO", "PUT", "/api/v2/recordings/policies/pci", with(pci, "recordingType", "AUDIO_AND_VIDEO"), ifMatch(pci)},
		{"drop the key", "PUT", "/api/v2/recordings/policies/pci", with(pci, "encryptionKeyReference", nil), ifMatch(pci)},
		{"platform queue added to the customer key", "PUT", "/api/v2/recordings/policies/pci", with(pci, "targetIds", []string{"pci", "sales"}), ifMatch(pci)},
		{"wildcard target on the customer key", "PUT", "/api/v2/recordings/policies/pci", with(pci, "targetIds", []string{"*"}, "allowGlobalCustomerKey", true), ifMatch(pci)},
		{"re-enable an old platform policy", "PUT", "/api/v2/recordings/policies/old-plat", with(old, "status", "ENABLED"), ifMatch(old)},
		{"platform policy retargeted at pci", "PUT", "/api/v2/recordings/policies/plat-sales", with(sales, "targetIds", []string{"sales", "pci"},
			"conditions", map[string]any{"direction": "INBOUND"}), ifMatch(sales)},
		{"delete", "DELETE", "/api/v2/recordings/policies/pci", nil, ifMatch(pci)},
		{"delete without If-Match", "DELETE", "/api/v2/recordings/policies/pci", nil, nil},
	}
	for _, a := range attempts {
		var body any
		if a.body != nil {
			body = a.body
		}
		code, raw, m := pa.Call(a.method, a.path, body, a.header...)
		if code != http.StatusForbidden || m["code"] != api.CodeApprovalRequired {
			t.Errorf("%s: %d %s, want 403 %s", a.name, code, raw, api.CodeApprovalRequired)
		}
	}
	// Without an id the change cannot be approved at all.
	if code, raw, m := pa.Call("POST", "/api/v2/recordings/policies", platCreate); code != http.StatusBadRequest || m["field"] != "id" {
		t.Errorf("no id, same queue: %d %s, want 400 on id", code, raw)
	}
	// A label is no way around the registry.
	for name, ref := range map[string]map[string]any{
		"AWS key labelled PLATFORM":   {"keyId": "aws-key", "providerType": "PLATFORM"},
		"unbound key":                 {"keyId": "cust2-key", "providerType": "PLATFORM"},
		"unregistered PLATFORM label": {"keyId": "cust", "providerType": "PLATFORM"},
	} {
		if code, raw, _ := pa.Call("POST", "/api/v2/recordings/policies", with(platCreate, "id", "lbl", "targetIds", []string{"sales"},
			"encryptionKeyReference", ref)); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, code, raw)
		}
	}
	if after := policySnapshot(pa); after != before {
		t.Fatalf("policy set changed without approval: %s -> %s", before, after)
	}
	// Platform-only edits stay ungated.
	pa.Must(201, "POST", "/api/v2/recordings/policies", with(platCreate, "id", "support", "targetIds", []string{"support"}))
	pa.Must(200, "PUT", "/api/v2/recordings/policies/pci", with(pci, "description", "cosmetic"), ifMatch(pci)...)
	pci = policyBody(pa, "pci")

	// A call on the queue still records under the customer key.
	id := tg.RecordCall(21)
	if rec, err := tg.Store().GetRecording(context.Background(), id); err != nil || rec.KeyID != "cust" || rec.Fallback {
		t.Fatalf("pci call recorded under %+v, %v; want the customer key", rec, err)
	}

	// With the quorum the exact change runs; another body under the same
	// approval is refused, and so is the approval once the policy moved on.
	weaker := with(pci, "onKeyUnavailable", "PLATFORM_KEY")
	v := int64(pci["version"].(float64))
	aid, digest := pa.Propose("policy.encryption_key", "pci", policyParams(t, weaker, v), "allow fallback")
	ka.Must(200, "POST", "/api/v2/approvals/"+aid+"/approve", map[string]any{"digest": digest})
	if code, raw, _ := pa.Call("PUT", "/api/v2/recordings/policies/pci", with(weaker, "status", "DISABLED"), "If-Match", fmt.Sprint(v), api.HeaderApproval, aid); code != http.StatusConflict {
		t.Fatalf("another body under the approval: %d %s", code, raw)
	}
	pa.Must(200, "PUT", "/api/v2/recordings/policies/pci", weaker, "If-Match", fmt.Sprint(v), api.HeaderApproval, aid)
	if got := policyBody(pa, "pci"); got["onKeyUnavailable"] != "PLATFORM_KEY" {
		t.Fatalf("approved change did not run: %v", got)
	}

	pci = policyBody(pa, "pci")
	v = int64(pci["version"].(float64))
	did, ddigest := pa.Propose("policy.encryption_key", "pci", mustParams(api.PolicyDeleteParams("pci", v)), "retire")
	ka.Must(200, "POST", "/api/v2/approvals/"+did+"/approve", map[string]any{"digest": ddigest})
	pa.Must(200, "PUT", "/api/v2/recordings/policies/pci", with(pci, "description", "edited after the approval"), ifMatch(pci)...)
	if code, raw, _ := pa.Call("DELETE", "/api/v2/recordings/policies/pci", nil, api.HeaderApproval, did); code != http.StatusConflict {
		t.Fatalf("delete approved for version %d ran on a later version: %d %s", v, code, raw)
	}
	pci = policyBody(pa, "pci")
	did, ddigest = pa.Propose("policy.encryption_key", "pci", mustParams(api.PolicyDeleteParams("pci", int64(pci["version"].(float64)))), "retire")
	ka.Must(200, "POST", "/api/v2/approvals/"+did+"/approve", map[string]any{"digest": ddigest})
	pa.Must(204, "DELETE", "/api/v2/recordings/policies/pci", nil, append(ifMatch(pci), api.HeaderApproval, did)...)
}

func mustParams(p json.RawMessage, err error) json.RawMessage {
	if err != nil {
		panic(err)
	}
	return p
}

// TestCallNeverRecordsUnderUnboundKey: a policy written straight into the
// store (the database holder) that names an unbound customer key, labelled
// PLATFORM, never gets that key: FAIL_CLOSED records nothing, PLATFORM_KEY
// falls back to the platform key.
func TestCallNeverRecordsUnderUnboundKey(t *testing.T) {
	tg := gatewaytest.Start(t, withPolicyAttackSetup(t))
	ctx := context.Background()
	for _, p := range []policy.Policy{
		{ID: "ub-closed", Name: "ub", RecordingType: policy.RecordingAudio, TargetIDs: []string{"ub-closed"}, OnKeyUnavailable: policy.OnKeyUnavailableFailClosed,
			EncryptionKeyReference: &policy.KeyReference{KeyID: "cust2-key", ProviderType: policy.ProviderPlatform}},
		{ID: "ub-open", Name: "ub", RecordingType: policy.RecordingAudio, TargetIDs: []string{"ub-open"}, OnKeyUnavailable: policy.OnKeyUnavailablePlatformKey,
			EncryptionKeyReference: &policy.KeyReference{KeyID: "cust2-key", ProviderType: policy.ProviderPlatform}},
		{ID: "mislabel", Name: "ub", RecordingType: policy.RecordingAudio, TargetIDs: []string{"mislabel"}, OnKeyUnavailable: policy.OnKeyUnavailablePlatformKey,
			EncryptionKeyReference: &policy.KeyReference{KeyID: "cust-key", ProviderType: "AWS_KMS"}},
	} {
		p.Normalize()
		if _, err := tg.Store().CreatePolicy(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := tg.RefreshCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	if s := tg.CreateCall("ub-closed", "caller"); s.Recorded && s.KeyState != "" {
		sum := tg.End(s)
		if sum.Status == "COMPLETE" {
			tg.WaitStored(s.RecordingID)
			rec, _ := tg.Store().GetRecording(ctx, s.RecordingID)
			t.Fatalf("FAIL_CLOSED call on an unbound key recorded under %s", rec.KeyID)
		}
	}
	for _, q := range []string{"ub-open", "mislabel"} {
		s := tg.CreateCall(q, "caller")
		gatewaytest.NewSender(t, s.Tracks[0].RTP, 31, 440).SendRange(0, 25, 5e6)
		tg.End(s)
		tg.WaitStored(s.RecordingID)
		rec, err := tg.Store().GetRecording(ctx, s.RecordingID)
		if err != nil || rec.KeyID != tg.Config().KMS.PlatformKey || !rec.Fallback {
			t.Fatalf("%s: recorded under %+v, %v; want a fallback to the platform key", q, rec, err)
		}
	}
}
