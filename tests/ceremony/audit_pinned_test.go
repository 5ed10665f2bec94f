package ceremony_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestAuditVerifyWithPinnedKeys: with audit.pinnedKeysFile the API's
// verification (the console's) checks the signed checkpoints with the
// auditor's exported keys, never the database's: unreadable keys are a
// verification that cannot run (503, not "intact"), the auditor's keys
// verify the log, and keys other than those that signed it (what a
// database holder's re-signed forgery looks like to the auditor) do not.
func TestAuditVerifyWithPinnedKeys(t *testing.T) {
	keysFile := filepath.Join(t.TempDir(), "auditor-keys.txt")
	tg := gatewaytest.Start(t, func(c *config.Config) { c.Audit.PinnedKeysFile = keysFile })
	auditor := tg.Principal("auditor-1")
	if code, body, _ := auditor.Call("GET", "/api/v2/audit/verify", nil); code != http.StatusServiceUnavailable {
		t.Fatalf("verify with the pinned keys missing: %d %s, want 503", code, body)
	}
	// A policy change is anchored at once: a signed checkpoint to verify.
	body := map[string]any{"name": "Support", "recordingType": "AUDIO", "targetType": "QUEUE", "targetIds": []string{"support"},
		"status": "ENABLED", "conditions": map[string]any{"direction": "INBOUND", "callerIdPattern": nil, "timeWindow": nil}}
	if code := tg.Admin("POST", "/api/v2/recordings/policies", body, nil); code != http.StatusCreated {
		t.Fatalf("create policy: %d", code)
	}
	if out, err := mediaseal(t, "audit", "keys", "export", "--data-dir", tg.Config().DataDir, "--out", keysFile); err != nil {
		t.Fatalf("audit keys export: %v %s", err, out)
	}
	m := auditor.Must(200, "GET", "/api/v2/audit/verify", nil)
	if m["intact"] != true || m["keys"] != "pinned" || m["checkpoints"].(float64) < 1 {
		t.Fatalf("verify with the auditor's keys: %v", m)
	}
	// The same key ids, other keys.
	b, err := os.ReadFile(keysFile)
	if err != nil {
		t.Fatal(err)
	}
	var forged []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		kid, _, _ := strings.Cut(line, "=")
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		forged = append(forged, kid+"="+base64.StdEncoding.EncodeToString(pub))
	}
	if err := os.WriteFile(keysFile, []byte(strings.Join(forged, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if m := auditor.Must(200, "GET", "/api/v2/audit/verify", nil); m["intact"] != false || m["keys"] != "pinned" {
		t.Fatalf("verify with keys that did not sign the log: %v", m)
	}
}
