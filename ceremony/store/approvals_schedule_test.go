package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// TestApprovalClaimIsExclusive: of many claimers on two handles of one
// database exactly one takes a due scheduled proposal; a proposal not yet
// due, vetoed or held under a live lease is not claimed; a lapsed lease is.
func TestApprovalClaimIsExclusive(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, cfg store.Config) {
		ctx := context.Background()
		other := openStore(t, cfg) // a second gateway on the same store
		now := time.Now().UTC().Truncate(time.Microsecond)
		mk := func(status string, at time.Time) store.Approval {
			t.Helper()
			a, err := s.CreateApproval(ctx, store.Approval{Operation: "key.delete", Target: "k", Canonical: "{}", Digest: "d",
				Proposer: "ka1", Required: 1, Pool: 1, EligibleRoles: []string{"key_admin"}, Status: status,
				Delay: time.Hour, CreatedAt: now, ExpiresAt: now.Add(time.Hour), ApprovedAt: now, ExecutableAt: at})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		due := mk(store.ApprovalScheduled, now.Add(-time.Second))
		later := mk(store.ApprovalScheduled, now.Add(time.Hour))
		vetoed := mk(store.ApprovalVetoed, now.Add(-time.Second))

		list, err := other.DueApprovals(ctx, now, 0)
		if err != nil || len(list) != 1 || list[0].ID != due.ID {
			t.Fatalf("due: %+v %v", list, err)
		}

		var wg sync.WaitGroup
		var mu sync.Mutex
		won := []string{}
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h := []*store.SQL{s, other}[i%2]
				owner := fmt.Sprintf("gw-%d", i)
				a, err := h.ClaimApproval(ctx, due.ID, owner, now, now.Add(time.Minute))
				switch {
				case err == nil:
					mu.Lock()
					won = append(won, a.Owner)
					mu.Unlock()
					if a.Status != store.ApprovalExecuting || a.Attempts != 1 || a.Owner != owner {
						t.Errorf("claimed row %+v", a)
					}
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("claim %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("claims won: %v, want exactly one", won)
		}
		for _, id := range []string{later.ID, vetoed.ID} {
			if _, err := s.ClaimApproval(ctx, id, "gw-x", now, now.Add(time.Minute)); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("claim of %s: %v", id, err)
			}
		}
		// The winner's lease is live: nobody else may take it over.
		if _, err := other.ClaimApproval(ctx, due.ID, "gw-y", now.Add(30*time.Second), now.Add(2*time.Minute)); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("claim under a live lease: %v", err)
		}
		// It lapsed (the gateway died): another gateway takes over, once.
		after := now.Add(2 * time.Minute)
		if list, err := other.DueApprovals(ctx, after, 0); err != nil || len(list) != 1 || list[0].ID != due.ID {
			t.Fatalf("due after the lease lapsed: %+v %v", list, err)
		}
		a, err := other.ClaimApproval(ctx, due.ID, "gw-y", after, after.Add(time.Minute))
		if err != nil || a.Owner != "gw-y" || a.Attempts != 2 {
			t.Fatalf("takeover: %+v %v", a, err)
		}
		// Finishing goes through UpdateApproval; the new fields round-trip.
		a, err = other.UpdateApproval(ctx, due.ID, func(a *store.Approval, _ []store.ApprovalVote) (*store.ApprovalVote, error) {
			a.Status, a.ExecutedAt, a.ExecutedBy, a.Owner, a.LeaseUntil, a.LastError = store.ApprovalExecuted, after, "gw-y", "", time.Time{}, "kms timeout (earlier)"
			return nil, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := s.GetApproval(ctx, due.ID)
		if err != nil || got.Status != store.ApprovalExecuted || got.Attempts != 2 || got.LastError != "kms timeout (earlier)" ||
			!got.LeaseUntil.IsZero() || got.Version != a.Version {
			t.Fatalf("finished: %+v %v", got, err)
		}
		if _, err := s.ClaimApproval(ctx, due.ID, "gw-z", after.Add(time.Hour), after.Add(2*time.Hour)); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("claim of an executed proposal: %v", err)
		}
	})
}
