package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuorumCLI changes a stored rule with the CLI the way docs/ceremony.md
// shows: without an approval `quorum set` is refused; proposed by one key
// administrator and approved by two others it applies, and `quorum list`
// shows the new version.
func TestQuorumCLI(t *testing.T) {
	base, adminTok := startGateway(t)
	dir := filepath.Dir(adminTok)
	tokens := map[string]string{}
	for _, p := range []string{"key-admin-1", "key-admin-2", "policy-admin-1", "auditor-1"} {
		out, err := mediaseal(t, "token", "--api", base, "--credentials", filepath.Join(dir, "credentials", p+".json"))
		if err != nil {
			t.Fatalf("token %s: %v\n%s", p, err, out)
		}
		tokens[p] = filepath.Join(t.TempDir(), p+".token")
		if err := os.WriteFile(tokens[p], []byte(strings.TrimSpace(out)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rule := `{"approvals":1,"of":1,"eligibleRoles":["key_admin"],"delay":"0s","vetoers":["auditor","key_admin"]}`
	ruleFile := filepath.Join(t.TempDir(), "bind.json")
	if err := os.WriteFile(ruleFile, []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	set := []string{"quorum", "set", "key.bind", "-f", ruleFile, "--api", base, "--token-file", tokens["key-admin-1"]}
	if out, err := mediaseal(t, set...); err == nil || !strings.Contains(err.Error()+out, "--approval-id is required") {
		t.Fatalf("quorum set without an approval: %v\n%s", err, out)
	}
	out, err := mediaseal(t, "approvals", "propose", "--api", base, "--token-file", tokens["key-admin-1"], "--operation", "ceremony.quorum",
		"--target", "key.bind", "--parameters", rule, "--reason", "restate the bind rule")
	if err != nil {
		t.Fatalf("propose: %v\n%s", err, out)
	}
	var prop struct {
		ID       string `json:"id"`
		Required int    `json:"required"`
	}
	if err := json.Unmarshal([]byte(out), &prop); err != nil || prop.Required != 2 {
		t.Fatalf("proposal %s: %v (a rule change needs the strictest rule's 2 approvals)", out, err)
	}
	for _, p := range []string{"key-admin-2", "policy-admin-1"} {
		if out, err := mediaseal(t, "approvals", "approve", prop.ID, "--api", base, "--token-file", tokens[p]); err != nil {
			t.Fatalf("approve as %s: %v\n%s", p, err, out)
		}
	}
	if out, err := mediaseal(t, append(set, "--approval-id", prop.ID)...); err != nil || !strings.Contains(out, "quorum rule key.bind: 1 approvals (version 2)") {
		t.Fatalf("quorum set: %v\n%s", err, out)
	}
	out, err = mediaseal(t, "quorum", "list", "--api", base, "--token-file", tokens["auditor-1"])
	if err != nil || !strings.Contains(out, `"approvalId": "`+prop.ID+`"`) {
		t.Fatalf("quorum list: %v\n%s", err, out)
	}
}
