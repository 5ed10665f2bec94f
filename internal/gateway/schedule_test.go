package gateway

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/local"
)

// waitApproval polls proposal id as p until its status is want, failing
// on any other final status or after within.
func waitApproval(p *principal, id, want string, within time.Duration) map[string]any {
	p.tg.t.Helper()
	deadline := time.Now().Add(within)
	for {
		m := p.must(200, "GET", "/api/v2/approvals/"+id, nil)
		switch st := fmt.Sprint(m["status"]); {
		case st == want:
			return m
		case st != store.ApprovalScheduled && st != store.ApprovalExecuting && st != store.ApprovalPending:
			p.tg.t.Fatalf("approval %s is %s, want %s: %v", id, st, want, m)
		case time.Now().After(deadline):
			p.tg.t.Fatalf("approval %s still %s after %v, want %s: %v", id, st, within, want, m)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lateness is how long after its approval's executableAt a scheduled
// operation was executed.
func lateness(t *testing.T, m map[string]any) time.Duration {
	t.Helper()
	at, err1 := time.Parse(time.RFC3339Nano, fmt.Sprint(m["executableAt"]))
	done, err2 := time.Parse(time.RFC3339Nano, fmt.Sprint(m["executedAt"]))
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("approval times: %v (%v)", err, m)
	}
	if done.Before(at) {
		t.Fatalf("executed at %s, before its delay ended at %s", done, at)
	}
	return done.Sub(at).Round(time.Millisecond)
}

// TestCeremonyScheduledDeletionTwoGateways: two gateways share one
// PostgreSQL store, keyring and object storage and both sweep every 10 ms;
// three scheduled deletions each run exactly once (one key.deleted, one
// key_shredded and one approval.executed event each), and the recordings
// under the deleted key are shredded for both.
func TestCeremonyScheduledDeletionTwoGateways(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	shared := t.TempDir()
	sweep := config.Duration(10 * time.Millisecond)
	edit := func(c *config.Config) {
		c.Store = config.Store{Driver: "postgres", DSN: dsn}
		c.Storage.FS.Dir = filepath.Join(shared, "recordings")
		c.KMS.Local.Dir = filepath.Join(shared, "keyring")
		withLocalCustomerKey(t)(c)
		c.Ceremony.SweepInterval = &sweep
	}
	opt := WithApprovals(approvalsWithDelay(300 * time.Millisecond))
	a := startGateway(t, edit, opt)
	b := startGateway(t, edit, opt)
	ka1, ka2, auditor := a.principal("key-admin-1"), a.principal("key-admin-2"), a.principal("auditor-1")
	keys := []string{"cust-key"} // registered and bound by withLocalCustomerKey
	for _, k := range []string{"k2", "k3"} {
		if err := a.keyring.EnsureKey(k + "-kek"); err != nil {
			t.Fatal(err)
		}
		ka1.must(201, "POST", "/api/v2/keys", map[string]any{"id": k, "name": k, "keyType": "PLATFORM", "label": k + "-kek", "region": a.cfg.Org.Region})
		keys = append(keys, k)
	}
	recs := []string{a.recordCall(61), b.recordCall(62)}

	ids := map[string]string{}
	for _, k := range keys {
		ids[approved(ka1, ka2, "key.delete", k)] = k
	}
	for id, k := range ids {
		m := waitApproval(ka1, id, store.ApprovalExecuted, 15*time.Second)
		t.Logf("deletion of %s executed %v after its delay by %v (attempts %v)", k, lateness(t, m), m["executedBy"], m["attempts"])
		if m["attempts"] != float64(1) {
			t.Errorf("deletion of %s took %v attempts", k, m["attempts"])
		}
		if st, err := a.index.GetKey(context.Background(), k); err != nil || st.State != KeyStateDestroyed {
			t.Fatalf("key %s after its deletion: %+v %v", k, st, err)
		}
	}
	checkShreddedEverywhere(t, a, recs)
	checkShreddedEverywhere(t, b, recs)
	// The shared keyring no longer holds it. (A running gateway's local
	// keyring keeps the keys it loaded in memory until it restarts; the
	// registry and the SHREDDED index entries stop it from using them.)
	kr, err := local.Open(filepath.Join(shared, "keyring"), a.cfg.Org.Region)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Describe(context.Background(), kms.KeyRef{Provider: providerLocal, KeyID: "cust"}); !errors.Is(err, kms.ErrNotFound) {
		t.Fatalf("destroyed key still in the shared keyring: %v", err)
	}

	// Exactly once: one event of each kind per deletion, whichever gateway ran it.
	count := map[string]int{}
	after := "0"
	for {
		m := auditor.must(200, "GET", "/api/v2/audit/events?limit=100&after="+after, nil)
		for _, e := range m["entities"].([]any) {
			ev := e.(map[string]any)
			count[fmt.Sprint(ev["action"], " ", ev["target"], " ", ev["outcome"])]++
		}
		if m["nextAfter"] == nil {
			break
		}
		after = fmt.Sprint(m["nextAfter"])
	}
	for id, k := range ids {
		for _, ev := range []string{"approval.executed " + id + " success", "key.deleted " + k + " success"} {
			if count[ev] != 1 {
				t.Errorf("%q recorded %d times, want once", ev, count[ev])
			}
		}
	}
	if n := count["key_shredded local:cust success"]; n != 1 {
		t.Errorf("key_shredded of local:cust recorded %d times: %v", n, count)
	}
}
