package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// TestGatewayLeases: a second live instance of one id is refused; an
// expired lease is claimed by exactly one sweeper, which marks the dead
// gateway's ACTIVE recordings (and only those) awaiting recovery; the id
// restarted takes its lease back.
func TestGatewayLeases(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, cfg store.Config) {
		ctx := context.Background()
		now := time.Now()
		lease := func(id, inst string, at time.Time) store.GatewayLease {
			return store.GatewayLease{ID: id, Instance: inst, Started: at, Renewed: at, Expires: at.Add(time.Second)}
		}
		if _, err := s.AcquireGatewayLease(ctx, lease("gw-a", "i1", now)); err != nil {
			t.Fatal(err)
		}
		if holder, err := s.AcquireGatewayLease(ctx, lease("gw-a", "i2", now.Add(500*time.Millisecond))); !errors.Is(err, store.ErrLeaseHeld) || holder.Instance != "i1" {
			t.Fatalf("second live instance of gw-a: %+v, %v", holder, err)
		}
		// A restart on the same data dir knows its dead instance: it takes
		// over the unexpired lease; naming another instance does not.
		if _, err := s.AcquireGatewayLease(ctx, store.GatewayLease{ID: "gw-b", Instance: "j0", Started: now, Renewed: now,
			Expires: now.Add(time.Second), Previous: "nobody"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AcquireGatewayLease(ctx, store.GatewayLease{ID: "gw-b", Instance: "j2", Started: now, Renewed: now,
			Expires: now.Add(time.Second), Previous: "i1"}); !errors.Is(err, store.ErrLeaseHeld) {
			t.Fatalf("takeover naming another gateway's instance: %v", err)
		}
		if _, err := s.AcquireGatewayLease(ctx, store.GatewayLease{ID: "gw-b", Instance: "j1", Started: now, Renewed: now,
			Expires: now.Add(time.Second), Previous: "j0"}); err != nil {
			t.Fatalf("takeover of its own dead instance: %v", err)
		}
		active, done := sampleRecording(store.NewID(), now), sampleRecording(store.NewID(), now)
		other := sampleRecording(store.NewID(), now)
		active.GatewayID, done.GatewayID, other.GatewayID = "gw-a", "gw-a", "gw-b"
		for _, r := range []store.Recording{active, done, other} {
			if err := s.CreateRecording(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.FinishRecording(ctx, done.ID, store.RecordingComplete, 1, 1, "", done.ObjectKey); err != nil {
			t.Fatal(err)
		}
		// gw-b renews, gw-a falls silent.
		later := now.Add(2 * time.Second)
		if err := s.RenewGatewayLease(ctx, "gw-b", "j1", later, later.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		peer := openStore(t, cfg)
		got := make(chan []store.ExpiredGateway, 2)
		for _, st := range []*store.SQL{s, peer} {
			go func() {
				exp, err := st.ExpireGatewayLeases(ctx, "gw-b", later)
				if err != nil {
					t.Error(err)
				}
				got <- exp
			}()
		}
		claims := append(<-got, <-got...)
		if len(claims) != 1 || claims[0].Lease.ID != "gw-a" || len(claims[0].Recordings) != 1 || claims[0].Recordings[0] != active.ID {
			t.Fatalf("claims %+v, want gw-a once with %s", claims, active.ID)
		}
		list, err := s.ListRecordings(ctx, store.RecordingFilter{AwaitingRecovery: true})
		if err != nil || len(list) != 1 || list[0].ID != active.ID {
			t.Fatalf("awaiting recovery: %+v, %v", list, err)
		}
		// The silent instance cannot renew; gw-a restarted takes it back
		// and recovers its recording, which then awaits nothing.
		if err := s.RenewGatewayLease(ctx, "gw-a", "i1", later, later.Add(time.Second)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("renew of an expired lease: %v", err)
		}
		if _, err := s.AcquireGatewayLease(ctx, lease("gw-a", "i3", later)); err != nil {
			t.Fatalf("restart of gw-a: %v", err)
		}
		if err := s.FinishRecording(ctx, active.ID, store.RecordingRecovered, 1, 1, "", active.ObjectKey); err != nil {
			t.Fatal(err)
		}
		if list, _ := s.ListRecordings(ctx, store.RecordingFilter{AwaitingRecovery: true}); len(list) != 0 {
			t.Fatalf("still awaiting recovery after recovery: %+v", list)
		}
		all, err := s.ListGatewayLeases(ctx)
		if err != nil || len(all) != 2 || all[0].State != store.GatewayLive || all[0].Instance != "i3" {
			t.Fatalf("leases %+v, %v", all, err)
		}
	})
}
