package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/recording"
)

func sampleRecording(id string, started time.Time) store.Recording {
	return store.Recording{
		ID: id, SessionID: "sess-" + id, OrgID: "org-1", CallID: "call-" + id, QueueID: "q-pci",
		Direction: "INBOUND", PolicyID: "pol-1", PolicyVersion: 3,
		KeyProvider: "aws-kms", KeyID: "cmk-1", KeyVersion: "v1", Fallback: true,
		WrappedDEK: []byte{0, 1, 2, 0xff, 0}, ObjectKey: "recordings/" + id + ".seal",
		StartedAt: started, GatewayID: "gw-a",
		Tracks: []recording.Track{{Label: "caller", Kind: "audio", Codec: "PCMU", Transport: recording.TransportSRTP, Suite: "AEAD_AES_256_GCM"},
			{Label: "agent", Kind: "audio", Codec: "PCMA", Transport: recording.TransportRTP}},
	}
}

func TestRecordingLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, _ store.Config) {
		ctx := context.Background()
		started := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)
		want := sampleRecording(store.NewID(), started)
		if err := s.CreateRecording(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetRecording(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		want.Status = store.RecordingActive
		if !sameRecording(got, want) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
		}

		steps := []struct {
			name    string
			do      func() error
			wantErr error
			chunks  int64
			status  string
		}{
			{"progress", func() error { return s.UpdateRecordingProgress(ctx, want.ID, 5, 5000, started.Add(5*time.Second)) }, nil, 5, store.RecordingActive},
			{"stale progress ignored", func() error { return s.UpdateRecordingProgress(ctx, want.ID, 3, 3000, started.Add(3*time.Second)) }, nil, 5, store.RecordingActive},
			{"same count again", func() error { return s.UpdateRecordingProgress(ctx, want.ID, 5, 5001, started.Add(6*time.Second)) }, nil, 5, store.RecordingActive},
			{"bad final status", func() error { return s.FinishRecording(ctx, want.ID, store.RecordingActive, 6, 1, "", "") }, store.ErrInvalid, 5, store.RecordingActive},
			{"finish", func() error { return s.FinishRecording(ctx, want.ID, store.RecordingComplete, 7, 7000, "abc123", "") }, nil, 7, store.RecordingComplete},
			{"finish retried", func() error { return s.FinishRecording(ctx, want.ID, store.RecordingComplete, 7, 7000, "abc123", "") }, nil, 7, store.RecordingComplete},
			{"finish differently", func() error { return s.FinishRecording(ctx, want.ID, store.RecordingFailed, 7, 7000, "abc123", "") }, store.ErrConflict, 7, store.RecordingComplete},
			{"progress after finish", func() error { return s.UpdateRecordingProgress(ctx, want.ID, 9, 9000, started) }, store.ErrConflict, 7, store.RecordingComplete},
			{"missing progress", func() error { return s.UpdateRecordingProgress(ctx, "nope", 1, 1, started) }, store.ErrNotFound, 7, store.RecordingComplete},
			{"missing finish", func() error { return s.FinishRecording(ctx, "nope", store.RecordingComplete, 1, 1, "", "") }, store.ErrNotFound, 7, store.RecordingComplete},
			{"duplicate create", func() error { return s.CreateRecording(ctx, want) }, store.ErrDuplicate, 7, store.RecordingComplete},
			{"empty id", func() error { return s.CreateRecording(ctx, store.Recording{}) }, store.ErrInvalid, 7, store.RecordingComplete},
			{"unknown status", func() error { return s.CreateRecording(ctx, store.Recording{ID: "x", Status: "DONE"}) }, store.ErrInvalid, 7, store.RecordingComplete},
		}
		for _, st := range steps {
			err := st.do()
			if !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) {
				t.Fatalf("%s: err = %v, want %v", st.name, err, st.wantErr)
			}
			got, err := s.GetRecording(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Chunks != st.chunks || got.Status != st.status {
				t.Fatalf("%s: chunks=%d status=%s, want %d %s", st.name, got.Chunks, got.Status, st.chunks, st.status)
			}
		}
		got, _ = s.GetRecording(ctx, want.ID)
		if got.EndedAt.IsZero() || got.SHA256 != "abc123" || got.ObjectKey != want.ObjectKey || got.Bytes != 7000 {
			t.Fatalf("finished row %+v", got)
		}
		if !got.DurableAt.Equal(started.Add(6 * time.Second)) {
			t.Fatalf("DurableAt = %v", got.DurableAt)
		}
		if _, err := s.GetRecording(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetRecording(missing) = %v", err)
		}
	})
}

func TestRecordingCrashLeavesProgress(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, cfg store.Config) {
		ctx := context.Background()
		r := sampleRecording(store.NewID(), time.Now())
		if err := s.CreateRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateRecordingProgress(ctx, r.ID, 12, 48000, time.Now()); err != nil {
			t.Fatal(err)
		}
		s.Close() // the gateway "crashes"
		s2 := openStore(t, cfg)
		active, err := s2.ListRecordingsByStatus(ctx, store.RecordingActive, 10)
		if err != nil || len(active) != 1 || active[0].Chunks != 12 || active[0].Bytes != 48000 {
			t.Fatalf("after restart: %+v, %v", active, err)
		}
		if err := s2.FinishRecording(ctx, r.ID, store.RecordingRecovered, 12, 48000, "ff", "obj"); err != nil {
			t.Fatal(err)
		}
		got, _ := s2.GetRecording(ctx, r.ID)
		if got.Status != store.RecordingRecovered || got.ObjectKey != "obj" {
			t.Fatalf("recovered row %+v", got)
		}
	})
}

func TestRewrapRecording(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, _ store.Config) {
		ctx := context.Background()
		r := sampleRecording(store.NewID(), time.Now())
		if err := s.CreateRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name     string
			from, to string
			wrapped  []byte
			wantErr  error
			wantVer  string
		}{
			{"rewrap v1->v2", "v1", "v2", []byte("new-envelope"), nil, "v2"},
			{"stale from version", "v1", "v3", []byte("other"), store.ErrConflict, "v2"},
			{"empty envelope", "v2", "v3", nil, store.ErrInvalid, "v2"},
		}
		for _, tc := range tests {
			err := s.RewrapRecording(ctx, r.ID, tc.from, tc.to, tc.wrapped)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("%s: %v, want %v", tc.name, err, tc.wantErr)
			}
			got, _ := s.GetRecording(ctx, r.ID)
			if got.KeyVersion != tc.wantVer || !bytes.Equal(got.WrappedDEK, []byte("new-envelope")) && tc.wantErr == nil {
				t.Fatalf("%s: version %s envelope %q", tc.name, got.KeyVersion, got.WrappedDEK)
			}
		}
		if err := s.RewrapRecording(ctx, "missing", "v1", "v2", []byte("x")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rewrap missing: %v", err)
		}
	})
}

func TestListRecordings(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, _ store.Config) {
		ctx := context.Background()
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		// r0..r9: queue alternates qa/qb, key k1 for even, status COMPLETE
		// for the first five, one minute apart.
		ids := make([]string, 10)
		for i := range ids {
			ids[i] = fmt.Sprintf("rec-%02d", i)
			r := sampleRecording(ids[i], base.Add(time.Duration(i)*time.Minute))
			r.QueueID = map[bool]string{true: "qa", false: "qb"}[i%2 == 0]
			r.KeyID = map[bool]string{true: "k1", false: "k2"}[i%2 == 0]
			r.GatewayID = map[bool]string{true: "gw-a", false: "gw-b"}[i < 3]
			if err := s.CreateRecording(ctx, r); err != nil {
				t.Fatal(err)
			}
			if i < 5 {
				if err := s.FinishRecording(ctx, r.ID, store.RecordingComplete, 1, 1, "x", ""); err != nil {
					t.Fatal(err)
				}
			}
		}
		tests := []struct {
			name string
			f    store.RecordingFilter
			want []int
		}{
			{"all", store.RecordingFilter{}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
			{"queue", store.RecordingFilter{QueueID: "qb"}, []int{1, 3, 5, 7, 9}},
			{"key", store.RecordingFilter{KeyID: "k1"}, []int{0, 2, 4, 6, 8}},
			{"status", store.RecordingFilter{Status: store.RecordingActive}, []int{5, 6, 7, 8, 9}},
			{"gateway", store.RecordingFilter{GatewayID: "gw-a"}, []int{0, 1, 2}},
			{"from inclusive", store.RecordingFilter{From: base.Add(7 * time.Minute)}, []int{7, 8, 9}},
			{"to exclusive", store.RecordingFilter{To: base.Add(2 * time.Minute)}, []int{0, 1}},
			{"range and queue and status", store.RecordingFilter{QueueID: "qa", Status: store.RecordingComplete,
				From: base.Add(time.Minute), To: base.Add(9 * time.Minute)}, []int{2, 4}},
			{"limit", store.RecordingFilter{Limit: 3}, []int{0, 1, 2}},
			{"after", store.RecordingFilter{After: "rec-06", Limit: 2}, []int{7, 8}},
			{"after with filter", store.RecordingFilter{After: "rec-02", QueueID: "qa"}, []int{4, 6, 8}},
			{"unknown cursor", store.RecordingFilter{After: "nope"}, nil},
			{"no match", store.RecordingFilter{QueueID: "zz"}, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListRecordings(ctx, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				var gotIDs, wantIDs []string
				for _, r := range got {
					gotIDs = append(gotIDs, r.ID)
				}
				for _, i := range tc.want {
					wantIDs = append(wantIDs, ids[i])
				}
				if fmt.Sprint(gotIDs) != fmt.Sprint(wantIDs) {
					t.Fatalf("got %v, want %v", gotIDs, wantIDs)
				}
			})
		}
		// Paging through everything with After visits each row once.
		var all []string
		after := ""
		for {
			page, err := s.ListRecordings(ctx, store.RecordingFilter{Limit: 3, After: after})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, r := range page {
				all = append(all, r.ID)
			}
			after = page[len(page)-1].ID
		}
		if fmt.Sprint(all) != fmt.Sprint(ids) {
			t.Fatalf("paged %v, want %v", all, ids)
		}
	})
}

// Two gateways (two stores on one database) recording at once never
// collide and the index lists every recording.
func TestTwoStoresRecordConcurrently(t *testing.T) {
	forEachBackend(t, func(t *testing.T, a *store.SQL, cfg store.Config) {
		ctx := context.Background()
		b := openStore(t, cfg)
		const workers, perWorker = 4, 25
		var wg sync.WaitGroup
		errs := make(chan error, 2*workers*perWorker)
		for gi, s := range []*store.SQL{a, b} {
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range perWorker {
						r := sampleRecording(store.NewID(), time.Now())
						r.GatewayID = fmt.Sprintf("gw-%d", gi)
						if err := s.CreateRecording(ctx, r); err != nil {
							errs <- err
							return
						}
						if err := s.UpdateRecordingProgress(ctx, r.ID, 1, 100, time.Now()); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for _, s := range []*store.SQL{a, b} {
			got, err := s.ListRecordings(ctx, store.RecordingFilter{})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, r := range got {
				seen[r.ID] = true
			}
			if len(got) != 2*workers*perWorker || len(seen) != len(got) {
				t.Fatalf("listed %d recordings (%d distinct), want %d", len(got), len(seen), 2*workers*perWorker)
			}
			for gi := range 2 {
				per, _ := s.ListRecordings(ctx, store.RecordingFilter{GatewayID: fmt.Sprintf("gw-%d", gi)})
				if len(per) != workers*perWorker {
					t.Fatalf("gateway %d has %d recordings", gi, len(per))
				}
			}
		}
	})
}

func sameRecording(a, b store.Recording) bool {
	a.UpdatedAt, b.UpdatedAt = time.Time{}, time.Time{}
	if !a.StartedAt.Equal(b.StartedAt) || !a.EndedAt.Equal(b.EndedAt) || !a.DurableAt.Equal(b.DurableAt) ||
		!bytes.Equal(a.WrappedDEK, b.WrappedDEK) {
		return false
	}
	a.StartedAt, b.StartedAt, a.EndedAt, b.EndedAt, a.DurableAt, b.DurableAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	a.WrappedDEK, b.WrappedDEK = nil, nil
	return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b)
}

func TestSetRecordingKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, _ store.Config) {
		ctx := context.Background()
		r := sampleRecording(store.NewID(), time.Now())
		r.KeyProvider, r.KeyID, r.KeyVersion, r.Fallback, r.WrappedDEK = "", "", "", false, nil
		if err := s.CreateRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name    string
			id      string
			wrapped []byte
			wantErr error
		}{
			{"empty envelope", r.ID, nil, store.ErrInvalid},
			{"first envelope", r.ID, []byte("env-1"), nil},
			{"second envelope", r.ID, []byte("env-2"), store.ErrConflict},
			{"missing recording", "missing", []byte("env"), store.ErrNotFound},
		}
		for _, tc := range tests {
			err := s.SetRecordingKey(ctx, tc.id, "local", "platform", "", true, tc.wrapped, []byte("ctx-"+tc.name))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("%s: %v, want %v", tc.name, err, tc.wantErr)
			}
		}
		got, _ := s.GetRecording(ctx, r.ID)
		if string(got.WrappedDEK) != "env-1" || !got.Fallback || got.KeyProvider != "local" || got.KeyID != "platform" ||
			string(got.KMSContext) != "ctx-first envelope" {
			t.Fatalf("envelope not kept: %+v", got)
		}
	})
}
