package store_test

import (
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

func TestUpdateRecordingsProgressBatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, _ store.Config) {
		ctx := t.Context()
		for _, id := range []string{"r1", "r2", "r3"} {
			if err := s.CreateRecording(ctx, store.Recording{ID: id, OrgID: "o", CallID: "c", QueueID: "q"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.FinishRecording(ctx, "r3", store.RecordingComplete, 4, 400, "ab", "k"); err != nil {
			t.Fatal(err)
		}
		at := time.Unix(0, 1_700_000_000_000_000_000)
		err := s.UpdateRecordingsProgress(ctx, []store.Progress{{ID: "r1", Bytes: 100, DurableAt: at}, {ID: "r2", Bytes: 50, DurableAt: at},
			{ID: "r3", Bytes: 1, DurableAt: at}, {ID: "missing", Bytes: 9, DurableAt: at}})
		if err != nil {
			t.Fatal(err)
		}
		// A stale batch (fewer bytes) does not move r1 back.
		if err := s.UpdateRecordingsProgress(ctx, []store.Progress{{ID: "r1", Bytes: 10, DurableAt: at}}); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]int64{"r1": 100, "r2": 50, "r3": 400} {
			r, err := s.GetRecording(ctx, id)
			if err != nil || r.Bytes != want {
				t.Fatalf("%s: bytes %d (%v), want %d", id, r.Bytes, err, want)
			}
		}
	})
}
