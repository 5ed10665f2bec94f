package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

func recordingIDs(rs []store.Recording) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.ID)
	}
	slices.Sort(out)
	return out
}

// Holds by recording, call and queue time range keep expired recordings
// from the sweeper's list and its claim, hold the key they are under, and
// ask for the object flags; a released hold lets them go, and a claimed
// recording ends as a tombstone without its wrapped DEK.
func TestLegalHoldsAndRetentionClaims(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, _ store.Config) {
		ctx := context.Background()
		t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
		now := t0.AddDate(0, 2, 0)
		mk := func(id, call, queue string, started time.Time) store.Recording {
			r := sampleRecording(id, started)
			r.CallID, r.QueueID, r.RetainUntil = call, queue, started.AddDate(0, 0, 30)
			if err := s.CreateRecording(ctx, r); err != nil {
				t.Fatal(err)
			}
			if err := s.FinishRecording(ctx, id, store.RecordingComplete, 1, 10, "ab", r.ObjectKey); err != nil {
				t.Fatal(err)
			}
			return r
		}
		a := mk("rec-a", "call-1", "q-1", t0)
		b := mk("rec-b", "call-2", "q-1", t0.Add(time.Hour))
		c := mk("rec-c", "call-3", "q-2", t0)
		young := sampleRecording("rec-young", now.Add(-time.Hour))
		young.RetainUntil = now.Add(time.Hour)
		if err := s.CreateRecording(ctx, young); err != nil {
			t.Fatal(err)
		}
		expired := func() []string {
			t.Helper()
			rs, err := s.ExpiredRecordings(ctx, now, 0)
			if err != nil {
				t.Fatal(err)
			}
			return recordingIDs(rs)
		}
		if got := expired(); !slices.Equal(got, []string{"rec-a", "rec-b", "rec-c"}) {
			t.Fatalf("expired = %v", got)
		}

		for _, bad := range []store.LegalHold{
			{CallID: "call-1", QueueID: "q-1", From: t0, Reason: "x", CreatedBy: "p"},
			{QueueID: "q-1", Reason: "x", CreatedBy: "p"},
			{RecordingID: "rec-a", From: t0, Reason: "x", CreatedBy: "p"},
			{QueueID: "q-1", From: t0, To: t0, Reason: "x", CreatedBy: "p"},
			{RecordingID: "rec-a", Reason: " ", CreatedBy: "p"},
			{RecordingID: "rec-a", Reason: "x"},
		} {
			if _, err := s.CreateLegalHold(ctx, bad); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("CreateLegalHold(%+v) = %v, want ErrInvalid", bad, err)
			}
		}
		byCall, err := s.CreateLegalHold(ctx, store.LegalHold{CallID: a.CallID, Reason: "case 1", CreatedBy: "legal-1"})
		if err != nil {
			t.Fatal(err)
		}
		// The queue hold starts after rec-a, so only rec-b is in its range.
		byQueue, err := s.CreateLegalHold(ctx, store.LegalHold{QueueID: "q-1", From: t0.Add(30 * time.Minute), Reason: "case 2", CreatedBy: "legal-1"})
		if err != nil {
			t.Fatal(err)
		}
		byRec, err := s.CreateLegalHold(ctx, store.LegalHold{RecordingID: c.ID, Reason: "case 3", CreatedBy: "legal-1"})
		if err != nil {
			t.Fatal(err)
		}
		if got := expired(); len(got) != 0 {
			t.Fatalf("expired under holds = %v, want none", got)
		}
		for _, r := range []store.Recording{a, b, c} {
			if ok, err := s.ClaimExpired(ctx, r.ID, now); ok || err != nil {
				t.Fatalf("ClaimExpired(held %s) = %v, %v", r.ID, ok, err)
			}
			if held, err := s.RecordingHeld(ctx, r.ID); !held || err != nil {
				t.Fatalf("RecordingHeld(%s) = %v, %v", r.ID, held, err)
			}
		}
		if held, err := s.RecordingHeld(ctx, young.ID); held || err != nil {
			t.Fatalf("RecordingHeld(young) = %v, %v", held, err)
		}
		if n, err := s.HeldRecordingsOfKey(ctx, a.KeyProvider, a.KeyID); n != 3 || err != nil {
			t.Fatalf("HeldRecordingsOfKey = %d, %v; want 3", n, err)
		}
		if rs, err := s.HeldRecordings(ctx, byQueue, 0); err != nil || !slices.Equal(recordingIDs(rs), []string{"rec-b"}) {
			t.Fatalf("HeldRecordings(queue) = %v, %v", recordingIDs(rs), err)
		}
		if hs, err := s.ListLegalHolds(ctx, true, "", 0); err != nil || len(hs) != 3 {
			t.Fatalf("ListLegalHolds = %d, %v", len(hs), err)
		}

		flags, err := s.HoldFlagsToSet(ctx, 0)
		if err != nil || len(flags) != 3 {
			t.Fatalf("HoldFlagsToSet = %v, %v; want the 3 stored held recordings", flags, err)
		}
		for _, f := range flags {
			if err := s.MarkHoldFlag(ctx, f, true); err != nil {
				t.Fatal(err)
			}
		}
		if flags, err := s.HoldFlagsToSet(ctx, 0); err != nil || len(flags) != 0 {
			t.Fatalf("HoldFlagsToSet after marking = %v, %v", flags, err)
		}

		released, err := s.ReleaseLegalHold(ctx, byRec.ID, "approval-1")
		if err != nil || released.Active() || released.ReleasedBy != "approval-1" {
			t.Fatalf("ReleaseLegalHold = %+v, %v", released, err)
		}
		if _, err := s.ReleaseLegalHold(ctx, byRec.ID, "approval-2"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second release = %v, want ErrConflict", err)
		}
		if _, err := s.ReleaseLegalHold(ctx, "no-such-hold", "approval-2"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("release of an unknown hold = %v, want ErrNotFound", err)
		}
		if clear, err := s.HoldFlagsToClear(ctx, 0); err != nil || len(clear) != 1 || clear[0].RecordingID != c.ID {
			t.Fatalf("HoldFlagsToClear = %v, %v; want rec-c", clear, err)
		}
		if got := expired(); !slices.Equal(got, []string{"rec-c"}) {
			t.Fatalf("expired after the release = %v", got)
		}
		if ok, err := s.ClaimExpired(ctx, c.ID, now); !ok || err != nil {
			t.Fatalf("ClaimExpired(rec-c) = %v, %v", ok, err)
		}
		// A claim left by a pass that died is taken over by the next.
		if ok, err := s.ClaimExpired(ctx, c.ID, now); !ok || err != nil {
			t.Fatalf("ClaimExpired of an unfinished claim = %v, %v; want true", ok, err)
		}
		if ok, err := s.ClaimExpired(ctx, young.ID, now); ok || err != nil {
			t.Fatalf("ClaimExpired(not expired) = %v, %v", ok, err)
		}
		// A claimed recording stays on the list until it is finished, so a
		// sweeper that died midway is followed by one that finishes.
		if got := expired(); !slices.Equal(got, []string{"rec-c"}) {
			t.Fatalf("expired with a claim = %v", got)
		}
		if ok, err := s.FinishDeletion(ctx, c.ID, []byte(`{"objects":[]}`)); !ok || err != nil {
			t.Fatalf("FinishDeletion = %v, %v", ok, err)
		}
		if ok, err := s.FinishDeletion(ctx, c.ID, []byte(`{}`)); ok || err != nil {
			t.Fatalf("second FinishDeletion = %v, %v", ok, err)
		}
		got, err := s.GetRecording(ctx, c.ID)
		if err != nil || got.Status != store.RecordingDeleted || got.DeletedAt.IsZero() || len(got.WrappedDEK) != 0 ||
			got.DeletionProof != `{"objects":[]}` {
			t.Fatalf("tombstone = status %s deletedAt %v dek %x proof %q, %v", got.Status, got.DeletedAt, got.WrappedDEK, got.DeletionProof, err)
		}
		if got := expired(); len(got) != 0 {
			t.Fatalf("expired after deletion = %v", got)
		}
		if ok, err := s.ClaimExpired(ctx, c.ID, now); ok || err != nil {
			t.Fatalf("ClaimExpired of a tombstone = %v, %v; want false", ok, err)
		}
		if _, err := s.ReleaseLegalHold(ctx, byCall.ID, "approval-3"); err != nil {
			t.Fatal(err)
		}
		if got := expired(); !slices.Equal(got, []string{"rec-a"}) {
			t.Fatalf("expired after releasing the call hold = %v", got)
		}
	})
}
