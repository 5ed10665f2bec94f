package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// TestQuorumRules: the first seed wins (a second one, as a second gateway
// starting on the same database would, writes nothing); an update needs
// the version it read, so two concurrent changes cannot both apply.
func TestQuorumRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, cfg store.Config) {
		ctx := context.Background()
		if rs, err := s.ListQuorumRules(ctx); err != nil || len(rs) != 0 {
			t.Fatalf("fresh store: %+v %v", rs, err)
		}
		seed := []store.QuorumRule{
			{Operation: "key.bind", Approvals: 1, Of: 1, EligibleRoles: []string{"key_admin"}, Vetoers: []string{"key_admin", "auditor"}},
			{Operation: "recording.playback", Approvals: 2, Of: 2, EligibleRoles: []string{"policy_admin", "key_admin"},
				Delay: 90 * time.Second, PlatformPlayback: true},
		}
		if ok, err := s.SeedQuorumRules(ctx, seed, "gateway-a"); !ok || err != nil {
			t.Fatalf("first seed: %v %v", ok, err)
		}
		lax := []store.QuorumRule{{Operation: "recording.playback", Approvals: 0}}
		if ok, err := s.SeedQuorumRules(ctx, lax, "gateway-b"); ok || err != nil {
			t.Fatalf("second seed: %v %v", ok, err)
		}
		// Another connection (another gateway) sees the first seed only.
		other := openStore(t, cfg)
		rs, err := other.ListQuorumRules(ctx)
		if err != nil || len(rs) != 2 {
			t.Fatalf("%+v %v", rs, err)
		}
		pb := rs[1]
		if pb.Operation != "recording.playback" || pb.Approvals != 2 || pb.Of != 2 || pb.Delay != 90*time.Second ||
			!pb.PlatformPlayback || pb.Version != 1 || pb.UpdatedBy != "gateway-a" || pb.ApprovalID != "" ||
			len(pb.EligibleRoles) != 2 || pb.EligibleRoles[0] != "key_admin" || len(pb.Vetoers) != 0 {
			t.Fatalf("stored %+v", pb)
		}

		pb.Approvals, pb.PlatformPlayback, pb.UpdatedBy, pb.ApprovalID = 3, false, "ka2", "ap-1"
		got, err := s.UpdateQuorumRule(ctx, pb)
		if err != nil || got.Version != 2 || got.Approvals != 3 || got.PlatformPlayback || got.ApprovalID != "ap-1" {
			t.Fatalf("update: %+v %v", got, err)
		}
		// The same read applied again (a concurrent change) is refused.
		pb.Approvals = 1
		if _, err := other.UpdateQuorumRule(ctx, pb); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale update: %v", err)
		}
		if _, err := s.UpdateQuorumRule(ctx, store.QuorumRule{Operation: "key.export", Version: 1}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown operation: %v", err)
		}
		rs, _ = other.ListQuorumRules(ctx)
		if rs[1].Approvals != 3 || rs[1].Version != 2 {
			t.Fatalf("after the refused update: %+v", rs[1])
		}
	})
}

// TestQuorumRulesSeedRace: gateways starting at once on an empty store —
// exactly one seed is written, the others write nothing and see it.
func TestQuorumRulesSeedRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, cfg store.Config) {
		ctx := context.Background()
		const n = 4
		results := make(chan bool, n)
		errs := make(chan error, n)
		for i := range n {
			st := s
			if i > 0 {
				st = openStore(t, cfg)
			}
			go func(i int, st *store.SQL) {
				ok, err := st.SeedQuorumRules(ctx, []store.QuorumRule{
					{Operation: "key.bind", Approvals: 1 + i, Of: 1 + i, EligibleRoles: []string{"key_admin"}},
					{Operation: "key.delete", Approvals: 1 + i, Of: 1 + i, EligibleRoles: []string{"key_admin"}},
				}, "gateway")
				results <- ok
				errs <- err
			}(i, st)
		}
		seeded := 0
		for range n {
			if <-results {
				seeded++
			}
			if err := <-errs; err != nil {
				t.Errorf("seed: %v", err)
			}
		}
		rs, err := s.ListQuorumRules(ctx)
		if seeded != 1 || err != nil || len(rs) != 2 || rs[0].Approvals != rs[1].Approvals {
			t.Fatalf("%d seeds written; rules %+v %v (want one seed, whole)", seeded, rs, err)
		}
	})
}
