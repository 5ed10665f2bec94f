package ceremony_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/gateway"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/kms/awskms"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// bindWithQuorum registers and binds a local-kms key through the ceremony
// (two key administrators) and returns the seq of its key.bound entry.
func bindWithQuorum(t *testing.T, tg *gatewaytest.Gateway, arn, region string) int64 {
	t.Helper()
	ka1, ka2, auditor := tg.Principal("key-admin-1"), tg.Principal("key-admin-2"), tg.Principal("auditor-1")
	const keyID = "cmk-anchor"
	ka1.Must(201, "POST", "/api/v2/keys", map[string]any{"id": keyID, "name": "AnchorCMK", "keyType": "AWS_KMS",
		"region": region, "arn": arn, "keyState": "ENABLED"})
	bind := map[string]any{"name": "AnchorCMK", "encryptionType": "AES-256-GCM",
		"keyProvider": map[string]any{"providerType": "AWS_KMS", "region": region, "keyArn": arn}, "status": "ACTIVE"}
	id, digest := ka1.Propose("key.bind", keyID, bind, "anchor test")
	ka2.Must(200, "POST", "/api/v2/approvals/"+id+"/approve", map[string]any{"digest": digest})
	ka1.Must(200, "POST", "/api/v2/keys/"+keyID, bind, api.HeaderApproval, id)
	m := auditor.Must(200, "GET", "/api/v2/audit/events?action=key.bound", nil)
	ents := m["entities"].([]any)
	if len(ents) != 1 {
		t.Fatalf("key.bound entries: %v", m)
	}
	return int64(ents[0].(map[string]any)["seq"].(float64))
}

// startAnchorGateway is startCeremonyGateway with the audit anchor set by
// anchor.
func startAnchorGateway(t *testing.T, lk *testenv.LocalKMS, anchor func(*config.Config)) *gatewaytest.Gateway {
	p, err := awskms.New(context.Background(), awskms.Config{Region: lk.Region, Endpoint: lk.Endpoint, AccessKeyID: "test",
		SecretAccessKey: "test", OrgRegion: lk.Region}, awskms.WithCiphertextVersion(awskms.LocalKMSCiphertextVersion))
	if err != nil {
		t.Fatal(err)
	}
	return gatewaytest.Start(t, func(c *config.Config) {
		c.Org.Region = lk.Region
		c.KMS.AWS = config.KMSAWS{Enabled: true, Region: lk.Region, Endpoint: lk.Endpoint, AccessKeyID: "test", SecretAccessKey: "test"}
		anchor(c)
	}, gateway.WithKMSProvider(awskms.ProviderName, p))
}

// mediaseal runs the CLI binary and returns its combined output.
func mediaseal(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(gatewaytest.MediasealBinary(t), args...).CombinedOutput()
	return string(out), err
}

// copyDataDir is the database holder's copy of a stopped gateway's data
// directory, to tamper with.
func copyDataDir(t *testing.T, dir string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "data")
	if out, err := exec.Command("cp", "-a", dir, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	return dst
}

func openStoreAt(t *testing.T, path string) *store.SQL {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func sqlExec(t *testing.T, dataDir string, qs ...string) {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{SQLitePath: filepath.Join(dataDir, "mediaseal.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, q := range qs {
		if _, err := st.DB().Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestAuditTruncationDetected (issue 17, hole 4): a key is bound with a
// quorum on a running gateway, whose signed heads go to the default file
// anchor (the key.bound at once). The database's holder then deletes rows
// with SQL in the SQLite file; mediaseal audit verify --keys (the
// auditor's keys, exported at the ceremony) reports the log tampered and
// names the first missing entry. Before the anchor, verify said intact
// for every cut but the middle one.
func TestAuditTruncationDetected(t *testing.T) {
	lk := gatewaytest.StartLocalKMS(t)
	tg := startCeremonyGateway(t, lk)
	dir := tg.Config().DataDir
	keysFile := filepath.Join(t.TempDir(), "audit-keys.txt")
	if out, err := mediaseal(t, "audit", "keys", "export", "--data-dir", dir, "--out", keysFile); err != nil {
		t.Fatalf("audit keys export: %v %s", err, out)
	}
	bound := bindWithQuorum(t, tg, lk.ARN("cmk-1"), lk.Region)

	// The bind was anchored at once, outside the database; the auditor
	// can fetch that head over the API.
	heads, err := audit.NewFileAnchor(filepath.Join(dir, config.AuditAnchorFileName), false).Heads(context.Background())
	if err != nil || len(heads) == 0 || heads[len(heads)-1].Seq < bound {
		t.Fatalf("anchored heads %+v %v, want one at or after key.bound (%d)", heads, err, bound)
	}
	latest := tg.Principal("auditor-1").Must(200, "GET", "/api/v2/audit/heads/latest", nil)
	if int64(latest["Seq"].(float64)) < bound {
		t.Fatalf("latest head over the API: %v", latest)
	}
	tg.Principal("key-admin-1").Must(200, "GET", "/api/v2/keys", nil) // a token.issued or two more
	tg.Shutdown()                                                     // signs and anchors the last head

	auditorCopy := filepath.Join(t.TempDir(), "auditor-anchors.jsonl")
	if out, err := mediaseal(t, "audit", "anchors", "export", "--data-dir", dir, "--out", auditorCopy); err != nil {
		t.Fatalf("audit anchors export: %v %s", err, out)
	}
	out, err := mediaseal(t, "audit", "verify", "--data-dir", dir, "--keys", keysFile)
	if err != nil || !strings.Contains(out, "audit log intact") || strings.Contains(out, "WARNING") {
		t.Fatalf("untouched log: %v\n%s", err, out)
	}

	for _, tc := range []struct {
		name string
		sql  []string
		want string
	}{
		{"tail from the key bind on, with its checkpoints", []string{
			fmt.Sprintf(`DELETE FROM audit_events WHERE seq >= %d`, bound), fmt.Sprintf(`DELETE FROM audit_checkpoints WHERE seq >= %d`, bound)},
			fmt.Sprintf("entry %d:", bound)},
		{"every checkpoint and the entries after the bind", []string{
			fmt.Sprintf(`DELETE FROM audit_events WHERE seq > %d`, bound), `DELETE FROM audit_checkpoints`},
			fmt.Sprintf("entry %d ", heads[0].Seq)},
		{"every checkpoint and every entry", []string{`DELETE FROM audit_events`, `DELETE FROM audit_checkpoints`}, "entry 1:"},
		{"one entry in the middle", []string{`DELETE FROM audit_events WHERE seq = 3`}, "entry 3:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := copyDataDir(t, dir)
			sqlExec(t, d, tc.sql...)
			out, err := mediaseal(t, "audit", "verify", "--data-dir", d, "--keys", keysFile)
			if err == nil || !strings.Contains(out, "TAMPERED") || !strings.Contains(out, tc.want) {
				t.Fatalf("verify after %q: %v\n%s\nwant tampered, naming %q", tc.sql, err, out, tc.want)
			}
			// The auditor's copy of the heads tells the same.
			out, err = mediaseal(t, "audit", "verify", "--data-dir", d, "--keys", keysFile, "--anchor", auditorCopy)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Fatalf("verify against the auditor's copy: %v\n%s", err, out)
			}
		})
	}

	// The holder who also rolls the host's anchor file back passes that
	// file (it is only as good as the host) but not the auditor's copy.
	d := copyDataDir(t, dir)
	sqlExec(t, d, fmt.Sprintf(`DELETE FROM audit_events WHERE seq >= %d`, bound), fmt.Sprintf(`DELETE FROM audit_checkpoints WHERE seq >= %d`, bound))
	if err := os.WriteFile(filepath.Join(d, config.AuditAnchorFileName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := mediaseal(t, "audit", "verify", "--data-dir", d, "--keys", keysFile); err != nil || !strings.Contains(out, "WARNING: no anchored head") {
		t.Fatalf("rolled-back host anchor: %v\n%s (expected to pass, with a warning)", err, out)
	}
	if out, err := mediaseal(t, "audit", "verify", "--data-dir", d, "--keys", keysFile, "--anchor", auditorCopy); err == nil || !strings.Contains(out, fmt.Sprintf("entry %d:", bound)) {
		t.Fatalf("rolled-back host anchor against the auditor's copy: %v\n%s", err, out)
	}
	// Without --keys verify still runs, and says loudly what it trusts.
	if out, _ := mediaseal(t, "audit", "verify", "--data-dir", dir); !strings.Contains(out, "WARNING: no --keys") {
		t.Fatalf("verify without --keys: %s", out)
	}
}

// TestAuditAnchorDown: when the anchor cannot be written the sensitive
// operation's entry is still written, the gateway reports itself not
// ready and counts the failure, and the head is anchored once the anchor
// is back.
func TestAuditAnchorDown(t *testing.T) {
	lk := gatewaytest.StartLocalKMS(t)
	anchorDir := filepath.Join(t.TempDir(), "anchor") // missing until later
	tg := startAnchorGateway(t, lk, func(c *config.Config) { c.Audit.Anchor.File.Path = filepath.Join(anchorDir, "heads.log") })
	bound := bindWithQuorum(t, tg, lk.ARN("cmk-1"), lk.Region)
	code, body := readyz(t, tg)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "auditAnchor") || !strings.Contains(body, "not anchored") {
		t.Fatalf("readyz with the anchor down: %d %s", code, body)
	}
	resp, err := gatewaytest.AuthGet(tg.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "mediaseal_audit_anchor_pending 1") || strings.Contains(string(metrics), "mediaseal_audit_anchor_failures_total 0") {
		t.Fatalf("metrics with the anchor down:\n%s", gatewaytest.GrepLines(string(metrics), "mediaseal_audit_"))
	}
	if err := os.Mkdir(anchorDir, 0o700); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * audit.DefaultAnchorRetry)
	for {
		if code, body = readyz(t, tg); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still not ready after the anchor came back: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	heads, err := audit.NewFileAnchor(filepath.Join(anchorDir, "heads.log"), false).Heads(context.Background())
	if err != nil || len(heads) == 0 || heads[len(heads)-1].Seq < bound {
		t.Fatalf("heads after the retry %+v %v, want the bind's (%d)", heads, err, bound)
	}
}

func readyz(t *testing.T, tg *gatewaytest.Gateway) (int, string) {
	t.Helper()
	resp, err := http.Get(tg.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	// Compacted, so checks read the same whatever the indentation.
	var c bytes.Buffer
	if err := json.Compact(&c, b); err != nil {
		t.Fatalf("readyz body %q: %v", b, err)
	}
	return resp.StatusCode, c.String()
}
