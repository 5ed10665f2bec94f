package controlplane

import (
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/mediaseal/mediaseal/kms"
)

// TestRefreshRetiresKeys: every refresh reports each key that is not
// usable (disabled, scheduled for deletion) to KeyRetired, on the gateway
// that changed it and on another one sharing the store, and never a key
// that is usable.
func TestRefreshRetiresKeys(t *testing.T) {
	ctx := t.Context()
	base := testDeps(t)
	st := base.Store
	const arn = "arn:aws:kms:eu-west-1:111122223333:key/one"
	cust := kms.KeyRef{Provider: kms.NameOfType("AWS_KMS"), KeyID: arn}
	cfg := Config{GatewayID: "gw-1", OrgRegion: "eu-west-1", PlatformKeyID: "platform",
		Keys: []Key{{ID: "cust", ProviderType: "AWS_KMS", ProviderKeyID: arn, Region: "eu-west-1"}}}
	var mu sync.Mutex
	retired := map[string][]kms.KeyRef{}
	open := func(gw string) *Service {
		deps := base
		deps.KeyRetired = func(ref kms.KeyRef) {
			mu.Lock()
			defer mu.Unlock()
			retired[gw] = append(retired[gw], ref)
		}
		c := cfg
		c.GatewayID = gw
		s, err := New(ctx, c, deps)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := open("gw-a"), open("gw-b")
	if _, err := st.UpdateKeyState(ctx, "cust", string(kms.StateEnabled)); err != nil {
		t.Fatal(err)
	}
	refresh := func() map[string][]kms.KeyRef {
		t.Helper()
		mu.Lock()
		clear(retired)
		mu.Unlock()
		for _, s := range []*Service{a, b} {
			if err := s.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(retired)
	}
	if heard := refresh(); len(heard) != 0 {
		t.Fatalf("KeyRetired heard %v with every key enabled", heard)
	}
	for _, state := range []string{"DISABLED", "PENDING_DELETION"} {
		if _, err := st.UpdateKeyState(ctx, "cust", state); err != nil {
			t.Fatal(err)
		}
		heard := refresh()
		for _, gw := range []string{"gw-a", "gw-b"} {
			if got := heard[gw]; !slices.Equal(got, []kms.KeyRef{cust}) {
				t.Errorf("%s, key %s: KeyRetired heard %v, want [%v]", gw, state, got, cust)
			}
		}
	}
}
