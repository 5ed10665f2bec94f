package store_test

import (
	"context"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/policy"
)

// A policy changed through one gateway is matched by another for the next
// call, with the new version; the first call's decision keeps version 1.
func TestLoadPolicySetAcrossStores(t *testing.T) {
	forEachBackend(t, func(t *testing.T, a *store.SQL, cfg store.Config) {
		ctx := context.Background()
		b := openStore(t, cfg)
		p := samplePolicy("pci")
		p.EncryptionKeyReference = nil
		if _, err := a.CreatePolicy(ctx, p); err != nil {
			t.Fatal(err)
		}
		call := policy.Call{QueueID: "q-pci", Direction: policy.DirectionInbound}
		set, err := store.LoadPolicySet(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		first := set.Match(call)
		if !first.Record || first.Policy.ID != "pci" || first.Policy.Version != 1 {
			t.Fatalf("first decision %+v", first)
		}
		p.RecordingType = policy.RecordingNone
		if _, err := a.UpdatePolicy(ctx, p, 1); err != nil {
			t.Fatal(err)
		}
		set2, err := store.LoadPolicySet(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		next := set2.Match(call)
		if next.Record || next.Policy.Version != 2 {
			t.Fatalf("next decision %+v", next)
		}
		if first.Policy.Version != 1 || first.Policy.RecordingType != policy.RecordingAudioAndVideo {
			t.Fatalf("running decision changed: %+v", first.Policy)
		}
	})
}
