package keys_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/gateway"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestKeyDeleteWaitsForLegalHold: an approved key deletion whose key
// protects a recording under legal hold is not carried out: the key is
// not destroyed, the recording still exports, and the refusal is audited
// with its reason at every retry; once the hold is released (by quorum)
// the same scheduled deletion goes through and shreds the recording.
func TestKeyDeleteWaitsForLegalHold(t *testing.T) {
	base := gatewaytest.WithLocalCustomerKey(t)
	quorum := gatewaytest.ApprovalsWithDelay(keyDelay)
	quorum.RetryBackoff = 100 * time.Millisecond
	tg := gatewaytest.Start(t, func(c *config.Config) {
		base(c)
		sweep := keySweep
		c.Ceremony.SweepInterval = &sweep
	}, gateway.WithApprovals(quorum))
	ka1, ka2, legal, auditor := tg.Principal("key-admin-1"), tg.Principal("key-admin-2"), tg.Principal("legal-officer-1"), tg.Principal("auditor-1")
	id := tg.RecordCall(41)
	hold := legal.Must(201, "POST", "/api/v2/legal-holds", map[string]any{"recordingId": id, "reason": "case 77"})

	del := gatewaytest.Approved(ka1, ka2, "key.delete", "cust-key")
	deadline := time.Now().Add(keyDelay + 20*time.Second)
	for refused := 0; refused < 2; { // refused at least twice: retried, still refused
		refused = 0
		m := auditor.Must(200, "GET", "/api/v2/audit/events?action=key.delete.failed&limit=100", nil)
		for _, e := range m["entities"].([]any) {
			if d, _ := e.(map[string]any)["details"].(map[string]any); strings.Contains(fmt.Sprint(d["reason"]), "legal hold") {
				refused++
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audited refusal of the deletion for the legal hold (%d seen)", refused)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if m := ka1.Must(200, "GET", "/api/v2/keys/cust-key", nil); m["keyState"] == "DESTROYED" {
		t.Fatalf("key destroyed under a legal hold: %v", m)
	}
	if rec, _ := tg.Store().GetRecording(t.Context(), id); rec.Status == store.RecordingShredded {
		t.Fatal("held recording marked SHREDDED")
	}
	if wav, _ := tg.ExportTrack(id, playback.FormatWAV, "caller"); len(wav) == 0 { // fails the test if it cannot export
		t.Fatal("held recording exports nothing")
	}

	rel := gatewaytest.Approved(legal, ka1, "legal_hold.release", hold["id"].(string))
	legal.Must(200, "POST", "/api/v2/legal-holds/"+hold["id"].(string)+"/release", nil, "X-Approval-Id", rel)
	gatewaytest.WaitApproval(ka1, del, store.ApprovalExecuted, 20*time.Second)
	gatewaytest.CheckShreddedEverywhere(t, tg, []string{id})
}
