package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
)

// TestPolicyProposeCLI: a policy administrator puts a queue under a
// customer key and takes it off again only with an approval the CLI
// proposes (`policies propose`, `policies propose-delete`) and a key
// administrator approves; without it apply and delete are refused.
func TestPolicyProposeCLI(t *testing.T) {
	base, adminTok := startGateway(t)
	dir := filepath.Dir(adminTok)
	// What a finished key ceremony leaves: a bound customer key.
	cfg := config.Config{DataDir: dir}
	st, err := store.Open(context.Background(), store.Config{SQLitePath: cfg.SQLitePath()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateKey(context.Background(), store.Key{ID: "ck", Name: "ck", KeyType: "AWS_KMS", Region: "local",
		Ref: "arn:aws:kms:local:111122223333:key/ck", State: "ENABLED"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateKeyBinding(context.Background(), "ck", store.Binding{Status: store.BindingBound, KMSState: "ENABLED"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	tokens := map[string]string{}
	for _, p := range []string{"key-admin-2", "policy-admin-1"} {
		out, err := mediaseal(t, "token", "--api", base, "--credentials", filepath.Join(dir, "credentials", p+".json"))
		if err != nil {
			t.Fatalf("token %s: %v\n%s", p, err, out)
		}
		tokens[p] = filepath.Join(t.TempDir(), p+".token")
		if err := os.WriteFile(tokens[p], []byte(strings.TrimSpace(out)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(who string, args ...string) (string, error) {
		return mediaseal(t, append(args, "--api", base, "--token-file", tokens[who])...)
	}
	approve := func(out string) string {
		var prop struct{ ID string }
		if err := json.Unmarshal([]byte(out), &prop); err != nil || prop.ID == "" {
			t.Fatalf("proposal %s: %v", out, err)
		}
		if out, err := run("key-admin-2", "approvals", "approve", prop.ID); err != nil {
			t.Fatalf("approve: %v\n%s", err, out)
		}
		return prop.ID
	}
	pol := writeFile(t, "pay.yaml", "id: pay\nname: Payments\nrecordingType: AUDIO\nencryptionKeyReference: {keyId: ck, providerType: AWS_KMS}\n"+
		"targetIds: [payments]\nonKeyUnavailable: FAIL_CLOSED\n")
	if out, err := run("policy-admin-1", "policies", "apply", "-f", pol); err == nil || !strings.Contains(err.Error()+out, "approval") {
		t.Fatalf("apply without an approval: %v\n%s", err, out)
	}
	out, err := run("policy-admin-1", "policies", "propose", "-f", pol, "--reason", "payments under the customer key")
	if err != nil {
		t.Fatalf("propose: %v\n%s", err, out)
	}
	id := approve(out)
	if out, err := run("policy-admin-1", "policies", "apply", "-f", pol, "--approval-id", id); err != nil || !strings.Contains(out, "policy pay created (version 1)") {
		t.Fatalf("apply with the approval: %v\n%s", err, out)
	}
	if out, err := run("policy-admin-1", "policies", "delete", "pay"); err == nil || !strings.Contains(err.Error()+out, "approval") {
		t.Fatalf("delete without an approval: %v\n%s", err, out)
	}
	out, err = run("policy-admin-1", "policies", "propose-delete", "pay", "--reason", "retire")
	if err != nil {
		t.Fatalf("propose-delete: %v\n%s", err, out)
	}
	id = approve(out)
	if out, err := run("policy-admin-1", "policies", "delete", "pay", "--approval-id", id); err != nil || !strings.Contains(out, "policy pay deleted") {
		t.Fatalf("delete with the approval: %v\n%s", err, out)
	}
}
