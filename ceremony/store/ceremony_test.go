package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

func TestPrincipalsKeysRevocations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, _ store.Config) {
		ctx := context.Background()
		p, err := s.CreatePrincipal(ctx, store.Principal{ID: "ka", Name: "Key admin", Kind: store.PrincipalService, Roles: []string{"key_admin", "auditor"}, SecretHash: "h"})
		if err != nil || len(p.Roles) != 2 || p.Roles[0] != "auditor" {
			t.Fatalf("%+v %v", p, err)
		}
		if _, err := s.CreatePrincipal(ctx, p); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("duplicate principal: %v", err)
		}
		if err := s.SetPrincipalRoles(ctx, "ka", []string{"key_admin"}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetPrincipalDisabled(ctx, "nobody", true); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown principal: %v", err)
		}
		got, err := s.GetPrincipal(ctx, "ka")
		if err != nil || len(got.Roles) != 1 || got.SecretHash != "h" || got.Kind != store.PrincipalService {
			t.Fatalf("%+v %v", got, err)
		}

		k, err := s.CreateServerKey(ctx, store.ServerKey{Kid: "t1", Purpose: store.KeyPurposeTokenSigning, PublicKey: []byte{1}, WrappedSeed: []byte{2}, KeyProvider: "local", KeyID: "platform"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RetireServerKey(ctx, k.Kid, time.Now()); err != nil {
			t.Fatal(err)
		}
		ks, err := s.ListServerKeys(ctx, store.KeyPurposeTokenSigning)
		if err != nil || len(ks) != 1 || ks[0].RetiredAt.IsZero() || string(ks[0].WrappedSeed) != "\x02" {
			t.Fatalf("%+v %v", ks, err)
		}

		exp := time.Now().Add(time.Hour)
		if err := s.RevokeToken(ctx, "j1", "ka", "ka", exp); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeToken(ctx, "j1", "ka", "ka", exp); err != nil {
			t.Fatalf("revoking twice: %v", err)
		}
		if r, _ := s.TokenRevoked(ctx, "j1"); !r {
			t.Fatal("j1 not revoked")
		}
		if n, _ := s.PurgeRevokedTokens(ctx, exp.Add(time.Second)); n != 1 {
			t.Fatalf("purged %d", n)
		}
	})
}

func TestApprovalUpdatesAreAtomic(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, _ store.Config) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		a, err := s.CreateApproval(ctx, store.Approval{Operation: "key.bind", Target: "k", Canonical: "{}", Digest: "d", Proposer: "ka1",
			Required: 2, Pool: 3, EligibleRoles: []string{"key_admin"}, Status: store.ApprovalPending, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		vote := func(who string) error {
			_, err := s.UpdateApproval(ctx, a.ID, func(a *store.Approval, votes []store.ApprovalVote) (*store.ApprovalVote, error) {
				if len(votes)+1 >= a.Required {
					a.Status = store.ApprovalApproved
				}
				return &store.ApprovalVote{Principal: who, Roles: []string{"key_admin"}, Digest: "d", At: now}, nil
			})
			return err
		}
		if err := vote("ka2"); err != nil {
			t.Fatal(err)
		}
		if err := vote("ka2"); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("second vote of ka2: %v", err)
		}
		// A failed update writes nothing.
		if _, err := s.UpdateApproval(ctx, a.ID, func(a *store.Approval, _ []store.ApprovalVote) (*store.ApprovalVote, error) {
			a.Status = store.ApprovalExecuted
			return nil, errors.New("refused")
		}); err == nil {
			t.Fatal("update error lost")
		}
		if err := vote("ka3"); err != nil {
			t.Fatal(err)
		}
		got, votes, err := s.GetApproval(ctx, a.ID)
		if err != nil || got.Status != store.ApprovalApproved || len(votes) != 2 || got.Version != 3 {
			t.Fatalf("%+v %+v %v", got, votes, err)
		}
		list, err := s.ListApprovals(ctx, store.ApprovalFilter{Status: store.ApprovalApproved, Operation: "key.bind"})
		if err != nil || len(list) != 1 {
			t.Fatalf("%+v %v", list, err)
		}
	})
}
