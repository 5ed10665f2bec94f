package store_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/events"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// The recording's index changes and their events commit together: one
// started (+ key_fallback) at create, one finished at finish and none for
// a retried finish; the data never holds the wrapped DEK and the caller
// stays apart from it.
func TestRecordingEventsInTheSameTransaction(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, _ store.Config) {
		ctx := context.Background()
		o := events.New(s.DB(), s.Dialect())
		sub, err := o.CreateSubscription(ctx, events.Subscription{URL: "https://hooks.example/", Types: []string{"*"}})
		if err != nil {
			t.Fatal(err)
		}
		rec := sampleRecording(store.NewID(), time.Now().Add(-time.Minute).UTC())
		rec.Caller = "+15550001111"
		if err := s.CreateRecording(ctx, rec); err != nil {
			t.Fatal(err)
		}
		// A duplicate create fails and leaves no event.
		if err := s.CreateRecording(ctx, rec); err == nil {
			t.Fatal("duplicate create succeeded")
		}
		if err := s.FinishRecording(ctx, rec.ID, store.RecordingComplete, 3, 300, "abc", rec.ObjectKey); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishRecording(ctx, rec.ID, store.RecordingComplete, 3, 300, "abc", rec.ObjectKey); err != nil {
			t.Fatal(err)
		}
		rows, err := s.DB().QueryContext(ctx, `SELECT e.type, e.data, e.caller FROM event_outbox e ORDER BY e.event_time, e.id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var types []string
		dek := base64.StdEncoding.EncodeToString(rec.WrappedDEK)
		for rows.Next() {
			var typ, caller string
			var data []byte
			if err := rows.Scan(&typ, &data, &caller); err != nil {
				t.Fatal(err)
			}
			types = append(types, typ)
			if strings.Contains(string(data), dek) || strings.Contains(string(data), rec.Caller) {
				t.Errorf("%s data carries the wrapped DEK or the caller: %s", typ, data)
			}
			if caller != rec.Caller {
				t.Errorf("%s caller column = %q", typ, caller)
			}
			if typ == events.TypeRecordingFinished && (!strings.Contains(string(data), `"status":"COMPLETE"`) ||
				!strings.Contains(string(data), `"transport":"SRTP"`) || !strings.Contains(string(data), `"suite":"AEAD_AES_256_GCM"`)) {
				t.Errorf("finished data: %s", data)
			}
		}
		want := []string{events.TypeRecordingStarted, events.TypeRecordingKeyFallback, events.TypeRecordingFinished,
			events.TypeRecordingUploaded}
		if strings.Join(types, ",") != strings.Join(want, ",") {
			t.Fatalf("events %v, want %v", types, want)
		}
		ds, err := o.ListDeliveries(ctx, sub.ID, events.DeliveryPending, 0)
		if err != nil || len(ds) != 4 {
			t.Fatalf("pending deliveries = %d, %v; want 4", len(ds), err)
		}
		// A failed recording (no object) is finished without an upload.
		failed := sampleRecording(store.NewID(), time.Now().UTC())
		if err := s.CreateRecording(ctx, failed); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishRecording(ctx, failed.ID, store.RecordingFailed, 0, 0, "", ""); err != nil {
			t.Fatal(err)
		}
		var uploads int
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM event_outbox WHERE type = 'recording.uploaded'`).Scan(&uploads); err != nil || uploads != 1 {
			t.Fatalf("uploaded events = %d, %v; want 1", uploads, err)
		}
	})
}

// A proposal's life emits requested, approved (once, at the transition)
// and vetoed, in its transactions; a refused update emits nothing.
func TestApprovalEventsInTheSameTransaction(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, _ store.Config) {
		ctx := context.Background()
		now := time.Now().UTC()
		a, err := s.CreateApproval(ctx, store.Approval{Operation: "key.bind", Target: "k", Canonical: `{"secretish":"x"}`, Digest: "d",
			Proposer: "ka1", Required: 2, Pool: 3, EligibleRoles: []string{"key_admin"}, Status: store.ApprovalPending,
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		set := func(status string, fail bool) {
			_, err := s.UpdateApproval(ctx, a.ID, func(a *store.Approval, _ []store.ApprovalVote) (*store.ApprovalVote, error) {
				a.Status = status
				if status == store.ApprovalVetoed {
					a.VetoedBy = "auditor-1"
				}
				if fail {
					return nil, errors.New("refused")
				}
				return nil, nil
			})
			if (err != nil) != fail {
				t.Fatalf("update to %s: %v", status, err)
			}
		}
		set(store.ApprovalExecuted, true) // rolled back: no event
		set(store.ApprovalApproved, false)
		set(store.ApprovalApproved, false) // no transition: no event
		set(store.ApprovalVetoed, false)
		rows, err := s.DB().QueryContext(ctx, `SELECT type, data FROM event_outbox ORDER BY event_time, id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var types []string
		for rows.Next() {
			var typ string
			var data []byte
			if err := rows.Scan(&typ, &data); err != nil {
				t.Fatal(err)
			}
			types = append(types, typ)
			if strings.Contains(string(data), "secretish") {
				t.Errorf("%s carries the canonical parameters: %s", typ, data)
			}
		}
		want := []string{events.TypeApprovalRequested, events.TypeApprovalApproved, events.TypeApprovalVetoed}
		if strings.Join(types, ",") != strings.Join(want, ",") {
			t.Fatalf("events %v, want %v", types, want)
		}
	})
}

// A job's checkpoint emits job.progress and its end job.completed, each in
// the transaction of the change; a refused checkpoint emits nothing.
func TestJobEventsInTheSameTransaction(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, _ store.Config) {
		ctx := context.Background()
		j, err := s.CreateJob(ctx, store.Job{Kind: "rewrap", Spec: "{}"})
		if err != nil {
			t.Fatal(err)
		}
		until := time.Now().Add(time.Minute)
		if _, err := s.ClaimJob(ctx, j.ID, "gw1", until); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CheckpointJob(ctx, store.JobCheckpoint{JobID: j.ID, Owner: "intruder", Progress: `{"done":1}`, LeaseUntil: until}); err == nil {
			t.Fatal("a checkpoint by a non-owner succeeded")
		}
		if _, err := s.CheckpointJob(ctx, store.JobCheckpoint{JobID: j.ID, Owner: "gw1", Progress: `{"done":1}`, LeaseUntil: until}); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishJob(ctx, j.ID, "gw1", store.JobCompleted, `{"done":2}`, ""); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishJob(ctx, j.ID, "gw1", store.JobCompleted, `{"done":2}`, ""); err == nil {
			t.Fatal("a second finish succeeded")
		}
		var types []string
		rows, err := s.DB().QueryContext(ctx, `SELECT type FROM event_outbox ORDER BY event_time, id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var typ string
			if err := rows.Scan(&typ); err != nil {
				t.Fatal(err)
			}
			types = append(types, typ)
		}
		if got := strings.Join(types, ","); got != events.TypeJobProgress+","+events.TypeJobCompleted {
			t.Fatalf("events %s", got)
		}
	})
}
