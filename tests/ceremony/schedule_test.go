package ceremony_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/controlplane"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/gateway"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

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
		gatewaytest.WithLocalCustomerKey(t)(c)
		c.Ceremony.SweepInterval = &sweep
	}
	opt := gateway.WithApprovals(gatewaytest.ApprovalsWithDelay(300 * time.Millisecond))
	a := gatewaytest.Start(t, edit, opt)
	b := gatewaytest.Start(t, edit, opt)
	ka1, ka2, auditor := a.Principal("key-admin-1"), a.Principal("key-admin-2"), a.Principal("auditor-1")
	keys := []string{"cust-key"} // registered and bound by withLocalCustomerKey
	for _, k := range []string{"k2", "k3"} {
		if err := a.Keyring().EnsureKey(k + "-kek"); err != nil {
			t.Fatal(err)
		}
		ka1.Must(201, "POST", "/api/v2/keys", map[string]any{"id": k, "name": k, "keyType": "PLATFORM", "label": k + "-kek", "region": a.Config().Org.Region})
		keys = append(keys, k)
	}
	recs := []string{a.RecordCall(61), b.RecordCall(62)}

	ids := map[string]string{}
	for _, k := range keys {
		ids[gatewaytest.Approved(ka1, ka2, "key.delete", k)] = k
	}
	for id, k := range ids {
		m := gatewaytest.WaitApproval(ka1, id, store.ApprovalExecuted, 15*time.Second)
		t.Logf("deletion of %s executed %v after its delay by %v (attempts %v)", k, gatewaytest.Lateness(t, m), m["executedBy"], m["attempts"])
		if m["attempts"] != float64(1) {
			t.Errorf("deletion of %s took %v attempts", k, m["attempts"])
		}
		if st, err := a.Store().GetKey(context.Background(), k); err != nil || st.State != controlplane.KeyStateDestroyed {
			t.Fatalf("key %s after its deletion: %+v %v", k, st, err)
		}
	}
	gatewaytest.CheckShreddedEverywhere(t, a, recs)
	gatewaytest.CheckShreddedEverywhere(t, b, recs)
	// The shared keyring no longer holds it. (A running gateway's local
	// keyring keeps the keys it loaded in memory until it restarts; the
	// registry and the SHREDDED index entries stop it from using them.)
	kr, err := local.Open(filepath.Join(shared, "keyring"), a.Config().Org.Region)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Describe(context.Background(), kms.KeyRef{Provider: local.ProviderName, KeyID: "cust"}); !errors.Is(err, kms.ErrNotFound) {
		t.Fatalf("destroyed key still in the shared keyring: %v", err)
	}

	// Exactly once: one event of each kind per deletion, whichever gateway ran it.
	count := map[string]int{}
	after := "0"
	for {
		m := auditor.Must(200, "GET", "/api/v2/audit/events?limit=100&after="+after, nil)
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
