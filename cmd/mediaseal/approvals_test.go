package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestTokenAndApprovalsCommands drives `mediaseal token` and `mediaseal
// approvals` against a running gateway with the bootstrap principals: the
// playback requester proposes, two other principals approve, the proposal
// becomes APPROVED; the token comes from --token-file or $MEDIASEAL_TOKEN,
// --url still works as a deprecated alias of --api, and a missing token is
// refused before any call.
func TestTokenAndApprovalsCommands(t *testing.T) {
	base, adminTokenFile := startGateway(t)
	creds := func(id string) string { return filepath.Join(filepath.Dir(adminTokenFile), "credentials", id+".json") }
	token := func(id, flag string) string {
		t.Helper()
		out, err := mediaseal(t, "token", flag, base, "--credentials", creds(id))
		if err != nil {
			t.Fatalf("token for %s: %v\n%s", id, err, out)
		}
		// The last line: a deprecated flag's warning goes first (stderr).
		lines := strings.Split(strings.TrimSpace(out), "\n")
		tok := lines[len(lines)-1]
		if strings.Count(tok, ".") != 2 {
			t.Fatalf("token for %s is not a JWT: %q", id, tok)
		}
		return tok
	}
	requester := writeFile(t, "requester.token", token("playback-requester-1", "--api")+"\n")

	out, err := mediaseal(t, "approvals", "propose", "--api", base, "--token-file", requester,
		"--operation", "recording.playback", "--target", "rec-123", "--reason", "cli test")
	if err != nil {
		t.Fatalf("propose: %v\n%s", err, out)
	}
	var prop struct{ ID, Status string }
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &prop); err != nil || prop.ID == "" {
		t.Fatalf("propose output %q: %v", out, err)
	}

	// Approvers: one through $MEDIASEAL_TOKEN and the old --url spelling,
	// one through --token-file.
	t.Setenv("MEDIASEAL_TOKEN", token("key-admin-1", "--url"))
	if out, err := mediaseal(t, "approvals", "approve", "--url", base, prop.ID); err != nil || !strings.Contains(out, "--url has been deprecated") {
		t.Fatalf("approve 1: %v\n%s", err, out)
	}
	t.Setenv("MEDIASEAL_TOKEN", "")
	second := writeFile(t, "policy.token", token("policy-admin-1", "--api"))
	if out, err := mediaseal(t, "approvals", "approve", "--api", base, "--token-file", second, prop.ID); err != nil {
		t.Fatalf("approve 2: %v\n%s", err, out)
	}
	out, err = mediaseal(t, "approvals", "list", "--api", base, "--token-file", requester)
	if err != nil || !strings.Contains(out, prop.ID) || !strings.Contains(out, "APPROVED") {
		t.Fatalf("list after two approvals: %v\n%s", err, out)
	}

	if _, err := mediaseal(t, "approvals", "list", "--api", base); err == nil || !strings.Contains(err.Error(), "--token-file") {
		t.Fatalf("no token: %v", err)
	}
	if _, err := mediaseal(t, "approvals", "list", "--api", base, "--token-file", filepath.Join(t.TempDir(), "absent")); err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("missing token file: %v", err)
	}
}
