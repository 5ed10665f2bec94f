package retention_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// recordCall records a half-second two-track call and waits until it is
// stored and indexed COMPLETE.
func recordCall(t *testing.T, gw *gatewaytest.Gateway) store.Recording {
	t.Helper()
	call := gw.CreateCall("q")
	senders := []*gatewaytest.Sender{
		gatewaytest.NewSender(t, call.Tracks[0].RTP, 0x1111, 440), gatewaytest.NewSender(t, call.Tracks[1].RTP, 0x2222, 1000),
	}
	for i := 0; i < 25; i++ {
		for _, s := range senders {
			s.Send(s.Packet(i))
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(150 * time.Millisecond)
	if sum := gw.End(call); sum.Status != "COMPLETE" {
		t.Fatalf("summary %+v", sum)
	}
	gw.WaitStored(call.RecordingID)
	return gatewaytest.WaitIndexStatus(t, gw.Gateway, call.RecordingID, store.RecordingComplete)
}

// expireInIndex is what the database holder can do alone: move a
// recording's retain-until into the past (or what time passing does to
// the index, where the object store keeps no lock).
func expireInIndex(t *testing.T, gw *gatewaytest.Gateway, id string) {
	t.Helper()
	if _, err := gw.Store().DB().Exec(`UPDATE recordings SET retain_until = ? WHERE id = ?`,
		time.Now().Add(-time.Hour).UnixNano(), id); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// On the filesystem store (no object lock), an expired recording is
// deleted by the sweeper and kept as a tombstone with its deletion proof,
// without its wrapped DEK, audited; a recording under legal hold is kept
// and so is its key; the hold is released only with a quorum, after
// which the recording goes too. The dry run names what would go.
func TestRetentionSweepAndLegalHold(t *testing.T) {
	gw := gatewaytest.Start(t, func(c *config.Config) {
		c.Recording.RetentionDays = 1
		c.Recording.RetentionSweepInterval = config.Duration(100 * time.Millisecond)
	})
	held, gone := recordCall(t, gw), recordCall(t, gw)
	legal, auditor := gw.Principal("legal-officer-1"), gw.Principal("auditor-1")
	ka1 := gw.Principal("key-admin-1")

	// Who may set a hold, and what a hold must say.
	auditor.Must(403, "POST", "/api/v2/legal-holds", map[string]any{"recordingId": held.ID, "reason": "x"})
	ka1.Must(403, "POST", "/api/v2/legal-holds", map[string]any{"recordingId": held.ID, "reason": "x"})
	legal.Must(400, "POST", "/api/v2/legal-holds", map[string]any{"recordingId": held.ID, "callId": held.CallID, "reason": "x"})
	legal.Must(400, "POST", "/api/v2/legal-holds", map[string]any{"recordingId": held.ID})
	legal.Must(400, "POST", "/api/v2/legal-holds", map[string]any{"queueId": "q", "reason": "no range"})
	legal.Must(404, "POST", "/api/v2/legal-holds", map[string]any{"recordingId": "no-such-recording", "reason": "typo"})
	h := legal.Must(201, "POST", "/api/v2/legal-holds", map[string]any{"callId": held.CallID, "reason": "case 2026-17"})
	holdID := h["id"].(string)
	if rs, _ := h["recordings"].([]any); len(rs) != 1 || rs[0] != held.ID {
		t.Fatalf("hold on call %s holds %v, want [%s]", held.CallID, h["recordings"], held.ID)
	}

	expireInIndex(t, gw, held.ID)
	expireInIndex(t, gw, gone.ID)
	due := auditor.Must(200, "GET", "/api/v2/retention/due", nil)
	if ents := due["entities"].([]any); len(ents) != 1 || ents[0].(map[string]any)["id"] != gone.ID {
		t.Fatalf("dry run %v, want only %s (the other is held)", due["entities"], gone.ID)
	}
	waitFor(t, "the expired recording's tombstone", func() bool {
		r, err := gw.Store().GetRecording(context.Background(), gone.ID)
		return err == nil && r.Status == store.RecordingDeleted
	})
	tomb := auditor.Must(200, "GET", "/api/v2/recordings/"+gone.ID, nil)
	var proof struct {
		Objects []struct {
			Key string `json:"key"`
		} `json:"objects"`
	}
	b, _ := json.Marshal(tomb["deletionProof"])
	if err := json.Unmarshal(b, &proof); err != nil || len(proof.Objects) != 1 || proof.Objects[0].Key != gone.ObjectKey || tomb["deletedAt"] == nil {
		t.Fatalf("tombstone %v: proof %s (%v)", tomb, b, err)
	}
	if r, _ := gw.Store().GetRecording(context.Background(), gone.ID); len(r.WrappedDEK) != 0 {
		t.Fatal("the tombstone still carries the wrapped DEK")
	}
	if _, err := gw.OpenRecording(context.Background(), gone.ID); err == nil {
		t.Fatal("a deleted recording still opens")
	}

	// The held one stays, whatever the sweeper passes.
	time.Sleep(400 * time.Millisecond)
	if r, err := gw.Store().GetRecording(context.Background(), held.ID); err != nil || r.Status != store.RecordingComplete {
		t.Fatalf("held recording %s: %v", r.Status, err)
	}
	if rec, err := gw.OpenRecording(context.Background(), held.ID); err != nil {
		t.Fatalf("held recording no longer opens: %v", err)
	} else {
		rec.Close()
	}

	// Releasing needs an approved legal_hold.release proposal of the
	// caller: not alone, not with somebody else's approval, not twice.
	legal.Must(403, "POST", "/api/v2/legal-holds/"+holdID+"/release", nil)
	id, digest := legal.Propose("legal_hold.release", holdID, nil, "case settled")
	legal.Must(403, "POST", "/api/v2/approvals/"+id+"/approve", map[string]any{"digest": digest})
	legal.Must(409, "POST", "/api/v2/legal-holds/"+holdID+"/release", nil, "X-Approval-Id", id) // not approved yet
	other, otherDigest := legal.Propose("legal_hold.release", "another-hold", nil, "wrong target")
	ka1.Must(200, "POST", "/api/v2/approvals/"+other+"/approve", map[string]any{"digest": otherDigest})
	legal.Must(409, "POST", "/api/v2/legal-holds/"+holdID+"/release", nil, "X-Approval-Id", other) // approves another hold
	ka1.Must(200, "POST", "/api/v2/approvals/"+id+"/approve", map[string]any{"digest": digest})
	ka1.Must(403, "POST", "/api/v2/legal-holds/"+holdID+"/release", nil, "X-Approval-Id", id) // not the proposer, no scope
	rel := legal.Must(200, "POST", "/api/v2/legal-holds/"+holdID+"/release", nil, "X-Approval-Id", id)
	if rel["active"] != false || rel["releasedBy"] != id {
		t.Fatalf("released hold %v", rel)
	}
	legal.Must(409, "POST", "/api/v2/legal-holds/"+holdID+"/release", nil, "X-Approval-Id", id) // single use
	waitFor(t, "the released recording's deletion", func() bool {
		r, err := gw.Store().GetRecording(context.Background(), held.ID)
		return err == nil && r.Status == store.RecordingDeleted
	})

	seen := gatewaytest.AuditSeen(auditor)
	for _, want := range []string{"recording.deleted/retention/success", "legal_hold.set/legal-officer-1/success",
		"legal_hold.released/legal-officer-1/success"} {
		if !seen[want] {
			t.Errorf("audit has no %q", want)
		}
	}
	// Each step's lifecycle event was written with it (the outbox).
	kinds := map[string]int{}
	rows, err := gw.Store().DB().Query(`SELECT type FROM event_outbox`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		kinds[k]++
	}
	rows.Close()
	for k, n := range map[string]int{"legal_hold.set": 1, "legal_hold.released": 1, "retention.expired": 2, "recording.deleted": 2} {
		if kinds[k] != n {
			t.Errorf("%d %s events in the outbox, want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}
	list := auditor.Must(200, "GET", "/api/v2/legal-holds?active=false", nil)
	if ents := list["entities"].([]any); len(ents) != 1 || ents[0].(map[string]any)["active"] != false {
		t.Fatalf("holds %v", list)
	}
	if n := gatewaytest.CounterWith(gatewaytest.Scrape(t, gw.URL)["mediaseal_retention_actions_total"],
		map[string]string{"action": "deleted"}); n != 2 {
		t.Fatalf("mediaseal_retention_actions_total{action=deleted} = %v, want 2", n)
	}
}

// On S3 with object lock, a hold sets the object's legal-hold flag (so
// neither a lifecycle rule nor a bucket user deletes it) and its release
// clears it; a database holder who moves retain-until into the past gets
// nothing deleted: the object store refuses the versions still retained,
// the sweeper counts the failure and leaves the row as it was.
func TestLegalHoldFlagAndObjectLockOnS3(t *testing.T) {
	vg := testenv.StartVersityGW(t)
	gw := gatewaytest.Start(t, func(c *config.Config) {
		gatewaytest.WithS3(vg)(c)
		c.Recording.RetentionDays = 1
		c.Recording.RetentionSweepInterval = config.Duration(100 * time.Millisecond)
		c.Storage.S3.LockMode = "GOVERNANCE"
	})
	held, locked := recordCall(t, gw), recordCall(t, gw)
	legal, ka1 := gw.Principal("legal-officer-1"), gw.Principal("key-admin-1")
	h := legal.Must(201, "POST", "/api/v2/legal-holds", map[string]any{"recordingId": held.ID, "reason": "case 9"})
	holdID := h["id"].(string)

	c := vg.Client()
	flag := func(key string) types.ObjectLockLegalHoldStatus {
		out, err := c.GetObjectLegalHold(context.Background(), &s3.GetObjectLegalHoldInput{Bucket: aws.String(vg.Bucket), Key: aws.String(key)})
		if err != nil || out.LegalHold == nil {
			return types.ObjectLockLegalHoldStatusOff
		}
		return out.LegalHold.Status
	}
	waitFor(t, "the object's legal-hold flag", func() bool { return flag(held.ObjectKey) == types.ObjectLockLegalHoldStatusOn })
	if got := flag(locked.ObjectKey); got == types.ObjectLockLegalHoldStatusOn {
		t.Fatal("an unheld object carries the legal-hold flag")
	}

	expireInIndex(t, gw, locked.ID)
	waitFor(t, "a refused deletion", func() bool {
		return gatewaytest.CounterWith(gatewaytest.Scrape(t, gw.URL)["mediaseal_retention_actions_total"],
			map[string]string{"action": "delete_failed"}) > 0
	})
	if _, ok := gatewaytest.BucketObjects(t, vg)[locked.ObjectKey]; !ok {
		t.Fatalf("object %s deleted before its object-lock retention", locked.ObjectKey)
	}
	if r, err := gw.Store().GetRecording(context.Background(), locked.ID); err != nil || r.Status == store.RecordingDeleted || len(r.WrappedDEK) == 0 {
		t.Fatalf("recording whose deletion the object store refused: %s, dek %d bytes, %v", r.Status, len(r.WrappedDEK), err)
	}

	id := gatewaytest.Approved(legal, ka1, "legal_hold.release", holdID)
	legal.Must(200, "POST", "/api/v2/legal-holds/"+holdID+"/release", nil, "X-Approval-Id", id)
	waitFor(t, "the flag cleared after the release", func() bool { return flag(held.ObjectKey) == types.ObjectLockLegalHoldStatusOff })
	ents := legal.Must(200, "GET", "/api/v2/legal-holds/"+holdID, nil)
	if rs, _ := ents["recordings"].([]any); ents["active"] != false || !slices.Contains(rs, any(held.ID)) {
		t.Fatalf("released hold %v", ents)
	}
}
