package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/policy"
)

func samplePolicy(id string) policy.Policy {
	p := policy.Policy{
		ID: id, Name: "PCI-DSS Secure Recording Policy", Description: "CMK for PCI queues",
		RecordingType:          policy.RecordingAudioAndVideo,
		EncryptionKeyReference: &policy.KeyReference{KeyID: "cmk-recording-key-01", ProviderType: "AWS_KMS"},
		TargetType:             policy.TargetQueue, TargetIDs: []string{"q-pci"},
		Conditions: policy.Conditions{Direction: policy.DirectionInbound},
	}
	p.Normalize()
	return p
}

func TestPolicyVersions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *store.SQL, _ store.Config) {
		ctx := context.Background()
		v1, err := s.CreatePolicy(ctx, samplePolicy(""))
		if err != nil {
			t.Fatal(err)
		}
		if v1.ID == "" || v1.Version != 1 || v1.CreatedAt.IsZero() {
			t.Fatalf("created %+v", v1)
		}
		if _, err := s.CreatePolicy(ctx, samplePolicy(v1.ID)); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("duplicate create: %v", err)
		}
		got, err := s.GetPolicy(ctx, v1.ID)
		if err != nil || got.Version != 1 || got.Name != v1.Name || got.EncryptionKeyReference.KeyID != "cmk-recording-key-01" ||
			got.Conditions.Direction != policy.DirectionInbound {
			t.Fatalf("GetPolicy = %+v, %v", got, err)
		}

		changed := got.Policy
		changed.TargetIDs = []string{"q-pci", "q-pci-2"}
		v2, err := s.UpdatePolicy(ctx, changed, 1)
		if err != nil || v2.Version != 2 || !v2.CreatedAt.Equal(v1.CreatedAt) {
			t.Fatalf("UpdatePolicy = %+v, %v", v2, err)
		}

		steps := []struct {
			name    string
			do      func() error
			wantErr error
		}{
			{"stale update", func() error { _, err := s.UpdatePolicy(ctx, changed, 1); return err }, store.ErrConflict},
			{"future version", func() error { _, err := s.UpdatePolicy(ctx, changed, 7); return err }, store.ErrConflict},
			{"update missing", func() error { p := changed; p.ID = "missing"; _, err := s.UpdatePolicy(ctx, p, 1); return err }, store.ErrNotFound},
			{"update without id", func() error { p := changed; p.ID = ""; _, err := s.UpdatePolicy(ctx, p, 1); return err }, store.ErrInvalid},
			{"stale delete", func() error { return s.DeletePolicy(ctx, v1.ID, 1) }, store.ErrConflict},
			{"delete missing", func() error { return s.DeletePolicy(ctx, "missing", 0) }, store.ErrNotFound},
			{"get missing", func() error { _, err := s.GetPolicy(ctx, "missing"); return err }, store.ErrNotFound},
			{"missing version", func() error { _, err := s.GetPolicyVersion(ctx, v1.ID, 3); return err }, store.ErrNotFound},
		}
		for _, st := range steps {
			if err := st.do(); !errors.Is(err, st.wantErr) {
				t.Fatalf("%s: %v, want %v", st.name, err, st.wantErr)
			}
		}

		// A running recording started under version 1 still reads it.
		old, err := s.GetPolicyVersion(ctx, v1.ID, 1)
		if err != nil || len(old.TargetIDs) != 1 || old.Version != 1 {
			t.Fatalf("version 1 = %+v, %v", old, err)
		}
		other, err := s.CreatePolicy(ctx, samplePolicy("zz-other"))
		if err != nil {
			t.Fatal(err)
		}
		list, err := s.ListPolicies(ctx)
		if err != nil || len(list) != 2 || list[0].ID != v1.ID || list[0].Version != 2 || list[1].ID != other.ID {
			t.Fatalf("ListPolicies = %+v, %v", list, err)
		}

		if err := s.DeletePolicy(ctx, v1.ID, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetPolicy(ctx, v1.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get deleted: %v", err)
		}
		if _, err := s.UpdatePolicy(ctx, changed, 2); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update deleted: %v", err)
		}
		if err := s.DeletePolicy(ctx, v1.ID, 0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete twice: %v", err)
		}
		if _, err := s.CreatePolicy(ctx, samplePolicy(v1.ID)); !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("reusing a deleted id: %v", err)
		}
		hist, err := s.ListPolicyVersions(ctx, v1.ID)
		if err != nil || len(hist) != 2 || hist[0].Version != 1 || hist[1].Version != 2 || hist[1].DeletedAt.IsZero() {
			t.Fatalf("history = %+v, %v", hist, err)
		}
		if _, err := s.ListPolicyVersions(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("history of missing: %v", err)
		}
		list, _ = s.ListPolicies(ctx)
		if len(list) != 1 || list[0].ID != other.ID {
			t.Fatalf("list after delete = %+v", list)
		}
	})
}

// Writers racing on the same version: exactly one wins, the others see
// ErrConflict, on two stores sharing one database.
func TestConcurrentPolicyUpdates(t *testing.T) {
	forEachBackend(t, func(t *testing.T, a *store.SQL, cfg store.Config) {
		ctx := context.Background()
		b := openStore(t, cfg)
		p, err := a.CreatePolicy(ctx, samplePolicy("race"))
		if err != nil {
			t.Fatal(err)
		}
		const writers = 8
		var wg sync.WaitGroup
		results := make(chan error, writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := []*store.SQL{a, b}[i%2]
				q := p.Policy
				q.Description = "writer"
				_, err := s.UpdatePolicy(ctx, q, 1)
				results <- err
			}()
		}
		wg.Wait()
		close(results)
		wins := 0
		for err := range results {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrConflict):
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d writers won, want exactly 1", wins)
		}
		hist, _ := b.ListPolicyVersions(ctx, "race")
		if len(hist) != 2 {
			t.Fatalf("%d versions, want 2", len(hist))
		}
	})
}
