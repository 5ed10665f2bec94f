package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
)

// The reference guide's policy payload.
const pciPolicy = `{
  "name": "PCI-DSS Secure Recording Policy",
  "description": "Enforces CMK encryption for all inbound calls to PCI queues",
  "recordingType": "AUDIO_AND_VIDEO",
  "encryptionKeyReference": {"keyId": "cmk-recording-key-01", "providerType": "AWS_KMS"},
  "targetType": "QUEUE",
  "targetIds": ["d6f8c3a1-b2e4-4f5a-9c8b-1a2b3c4d5e6f"],
  "status": "ENABLED",
  "conditions": {"direction": "INBOUND", "callerIdPattern": null, "timeWindow": null}
}`

// seedKey registers (and optionally binds) a key straight in the store.
func (e *env) seedKey(id, keyType string, bound bool) {
	e.t.Helper()
	ctx := context.Background()
	ref := "arn:aws:kms:" + orgRegion + ":123456789012:key/" + id
	if keyType != kms.KindAWS.Type {
		ref = id
	}
	if _, err := e.st.CreateKey(ctx, store.Key{ID: id, Name: "name-" + id, KeyType: keyType, Region: orgRegion, Ref: ref, State: "ENABLED"}); err != nil {
		e.t.Fatal(err)
	}
	if bound {
		if _, err := e.st.UpdateKeyBinding(ctx, id, store.Binding{Status: store.BindingBound, KMSState: "ENABLED", KMSRegion: orgRegion}); err != nil {
			e.t.Fatal(err)
		}
	}
}

func withPolicy(base string, replace ...string) string {
	return strings.NewReplacer(replace...).Replace(base)
}

func TestPoliciesAPI(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, envOptions{})
		e.seedKey("cmk-recording-key-01", kms.KindAWS.Type, true)
		e.seedKey("cmk-unbound", kms.KindAWS.Type, false)
		e.seedKey("hsm-key", kms.KindPKCS11.Type, true)
		const P = "/api/v2/recordings/policies"
		global := withPolicy(pciPolicy, `["d6f8c3a1-b2e4-4f5a-9c8b-1a2b3c4d5e6f"]`, `[]`)
		wildcard := withPolicy(pciPolicy, `"d6f8c3a1-b2e4-4f5a-9c8b-1a2b3c4d5e6f"`, `"*"`)
		e.run([]apiCase{
			{name: "create (reference payload)", method: "POST", path: P, body: withPolicy(pciPolicy, `"name"`, `"id": "policy-pci-dss-01", "name"`),
				status: 201, contains: []string{`"id": "policy-pci-dss-01"`, `"version": 1`, `"onKeyUnavailable": "PLATFORM_KEY"`}},
			{name: "duplicate id", method: "POST", path: P, body: withPolicy(pciPolicy, `"name"`, `"id": "policy-pci-dss-01", "name"`), status: 409, code: api.CodeConflict, field: "id"},
			{name: "trap: no targetIds", method: "POST", path: P, body: global, status: 400, code: api.CodeInvalidField, field: "targetIds",
				contains: []string{"allowGlobalCustomerKey"}},
			{name: "trap: wildcard", method: "POST", path: P, body: wildcard, status: 400, field: "targetIds"},
			{name: "trap: explicitly allowed", method: "POST", path: P, body: withPolicy(wildcard, `"status"`, `"allowGlobalCustomerKey": true, "status"`), status: 201},
			{name: "global platform key is fine", method: "POST", path: P,
				body: withPolicy(global, `"keyId": "cmk-recording-key-01", "providerType": "AWS_KMS"`, `"keyId": "platform", "providerType": "PLATFORM"`), status: 201},
			{name: "bad JSON", method: "POST", path: P, body: `{"name": "x",`, status: 400, code: api.CodeMalformedJSON},
			{name: "syntax error", method: "POST", path: P, body: `{"name" "x"}`, status: 400, code: api.CodeMalformedJSON, contains: []string{"byte"}},
			{name: "empty body", method: "POST", path: P, body: ` `, status: 400, code: api.CodeMalformedJSON},
			{name: "not an object", method: "POST", path: P, body: `[1,2]`, status: 400, code: api.CodeInvalidField},
			{name: "trailing data", method: "POST", path: P, body: pciPolicy + `{}`, status: 400, code: api.CodeMalformedJSON},
			{name: "unknown field", method: "POST", path: P, body: withPolicy(pciPolicy, `"status"`, `"queueIds": [], "status"`), status: 400,
				code: api.CodeUnknownField, field: "queueIds"},
			{name: "wrong type", method: "POST", path: P, body: withPolicy(pciPolicy, `"name": "PCI-DSS Secure Recording Policy"`, `"name": 42`), status: 400,
				code: api.CodeInvalidField, field: "name", contains: []string{"want string"}},
			{name: "wrong nested type", method: "POST", path: P, body: withPolicy(pciPolicy, `"direction": "INBOUND"`, `"direction": true`), status: 400,
				field: "conditions.direction"},
			{name: "targetIds not an array", method: "POST", path: P, body: withPolicy(pciPolicy, `["d6f8c3a1-b2e4-4f5a-9c8b-1a2b3c4d5e6f"]`, `"q1"`), status: 400,
				field: "targetIds", contains: []string{"want array"}},
			{name: "oversized body", method: "POST", path: P, body: withPolicy(pciPolicy, `"description": "`, `"description": "`+strings.Repeat("x", 5000)), status: 413, code: api.CodeBodyTooLarge},
			{name: "wrong content type", method: "POST", path: P, body: pciPolicy, headers: []string{"Content-Type", "text/plain"}, status: 415},
			{name: "invalid recordingType", method: "POST", path: P, body: withPolicy(pciPolicy, `"AUDIO_AND_VIDEO"`, `"VIDEO"`), status: 400, field: "recordingType"},
			{name: "invalid direction", method: "POST", path: P, body: withPolicy(pciPolicy, `"INBOUND"`, `"SIDEWAYS"`), status: 400, field: "conditions.direction"},
			{name: "bad callerIdPattern", method: "POST", path: P, body: withPolicy(pciPolicy, `"callerIdPattern": null`, `"callerIdPattern": "(("`), status: 400,
				field: "conditions.callerIdPattern"},
			{name: "missing name", method: "POST", path: P, body: withPolicy(pciPolicy, `"PCI-DSS Secure Recording Policy"`, `""`), status: 400, field: "name"},
			{name: "unregistered key", method: "POST", path: P, body: withPolicy(pciPolicy, `cmk-recording-key-01`, `cmk-nope`), status: 400,
				field: "encryptionKeyReference.keyId", contains: []string{"not registered"}},
			{name: "unbound key", method: "POST", path: P, body: withPolicy(pciPolicy, `cmk-recording-key-01`, `cmk-unbound`), status: 400,
				field: "encryptionKeyReference.keyId", contains: []string{"not bound"}},
			{name: "provider type differs from the key's", method: "POST", path: P, body: withPolicy(pciPolicy, `cmk-recording-key-01`, `hsm-key`), status: 400,
				field: "encryptionKeyReference.providerType"},
			{name: "version on create", method: "POST", path: P, body: withPolicy(pciPolicy, `"name"`, `"version": 3, "name"`), status: 400, field: "version"},
			{name: "get", method: "GET", path: P + "/policy-pci-dss-01", status: 200, contains: []string{`"targetIds": [`, `"createdAt"`}},
			{name: "get missing", method: "GET", path: P + "/nope", status: 404, code: api.CodeNotFound},
			{name: "update without version", method: "PUT", path: P + "/policy-pci-dss-01", body: pciPolicy, status: 428, code: api.CodePreconditionNeeded},
			{name: "update with If-Match", method: "PUT", path: P + "/policy-pci-dss-01", body: withPolicy(pciPolicy, `"ENABLED"`, `"DISABLED"`),
				headers: []string{"If-Match", `"1"`}, status: 200, contains: []string{`"version": 2`, `"status": "DISABLED"`}},
			{name: "stale If-Match", method: "PUT", path: P + "/policy-pci-dss-01", body: pciPolicy, headers: []string{"If-Match", `"1"`}, status: 409, code: api.CodeConflict},
			{name: "stale body version", method: "PUT", path: P + "/policy-pci-dss-01", body: withPolicy(pciPolicy, `"name"`, `"version": 1, "name"`), status: 409},
			{name: "body version", method: "PUT", path: P + "/policy-pci-dss-01", body: withPolicy(pciPolicy, `"name"`, `"version": 2, "name"`), status: 200,
				contains: []string{`"version": 3`}},
			{name: "If-Match and body disagree", method: "PUT", path: P + "/policy-pci-dss-01", body: withPolicy(pciPolicy, `"name"`, `"version": 2, "name"`),
				headers: []string{"If-Match", "3"}, status: 400, field: "version"},
			{name: "garbage If-Match", method: "PUT", path: P + "/policy-pci-dss-01", body: pciPolicy, headers: []string{"If-Match", "*"}, status: 400, field: "If-Match"},
			{name: "body id differs", method: "PUT", path: P + "/policy-pci-dss-01", body: withPolicy(pciPolicy, `"name"`, `"id": "other", "name"`),
				headers: []string{"If-Match", "3"}, status: 400, field: "id"},
			{name: "update invalid", method: "PUT", path: P + "/policy-pci-dss-01", body: global, headers: []string{"If-Match", "3"}, status: 400, field: "targetIds"},
			{name: "update unknown field", method: "PUT", path: P + "/policy-pci-dss-01", body: `{"nmae": "x"}`, headers: []string{"If-Match", "3"}, status: 400, field: "nmae"},
			{name: "update missing", method: "PUT", path: P + "/nope", body: pciPolicy, headers: []string{"If-Match", "1"}, status: 404},
			{name: "version history", method: "GET", path: P + "/policy-pci-dss-01/versions", status: 200, contains: []string{`"total": 3`}},
			{name: "old version", method: "GET", path: P + "/policy-pci-dss-01/versions/1", status: 200, contains: []string{`"status": "ENABLED"`, `"version": 1`}},
			{name: "bad version", method: "GET", path: P + "/policy-pci-dss-01/versions/x", status: 400, field: "version"},
			{name: "missing version", method: "GET", path: P + "/policy-pci-dss-01/versions/9", status: 404},
			{name: "stale delete", method: "DELETE", path: P + "/policy-pci-dss-01", headers: []string{"If-Match", "2"}, status: 409},
			{name: "delete", method: "DELETE", path: P + "/policy-pci-dss-01", headers: []string{"If-Match", "3"}, status: 204},
			{name: "deleted is gone", method: "GET", path: P + "/policy-pci-dss-01", status: 404},
			{name: "delete again", method: "DELETE", path: P + "/policy-pci-dss-01", status: 404},
			{name: "deleted history stays", method: "GET", path: P + "/policy-pci-dss-01/versions/3", status: 200},
			{name: "list", method: "GET", path: P, status: 200, contains: []string{`"total": 2`}},
		})
	})
}

// A policy change takes effect for new sessions only: a recording that
// started under version 1 keeps pointing at version 1, which stays
// readable after the change.
func TestPolicyChangeDoesNotAffectRunningRecording(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, envOptions{})
		e.seedKey("cmk-recording-key-01", kms.KindAWS.Type, true)
		const P = "/api/v2/recordings/policies"
		r := e.do("POST", P, pciPolicy)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		id := r.str("id")
		ctx := context.Background()
		rec := store.Recording{ID: store.NewID(), QueueID: "d6f8c3a1-b2e4-4f5a-9c8b-1a2b3c4d5e6f", PolicyID: id, PolicyVersion: 1,
			KeyID: "cmk-recording-key-01", KeyProvider: "aws-kms", KeyVersion: "v1", StartedAt: time.Now()}
		if err := e.st.CreateRecording(ctx, rec); err != nil {
			t.Fatal(err)
		}
		upd := e.do("PUT", P+"/"+id, withPolicy(pciPolicy, `"AUDIO_AND_VIDEO"`, `"NONE"`), "If-Match", "1")
		if upd.status != 200 || upd.num("version") != 2 {
			t.Fatalf("update: %d %s", upd.status, upd.raw)
		}
		got := e.do("GET", "/api/v2/recordings/"+rec.ID, "")
		pol, _ := got.body["policy"].(map[string]any)
		if got.status != 200 || pol["version"] != float64(1) {
			t.Fatalf("running recording: %d %s", got.status, got.raw)
		}
		v1 := e.do("GET", P+"/"+id+"/versions/1", "")
		if v1.str("recordingType") != "AUDIO_AND_VIDEO" {
			t.Fatalf("version 1 changed: %s", v1.raw)
		}
		if cur := e.do("GET", P+"/"+id, ""); cur.str("recordingType") != "NONE" {
			t.Fatalf("current version: %s", cur.raw)
		}
	})
}
