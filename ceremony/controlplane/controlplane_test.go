package controlplane

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/policy"
)

// TestNewSeedsConfigKeys: New registers a config customer key UNBOUND
// (binding it takes the quorum), serves the config's alias of the platform
// key from the catalog without putting it in the store, and refuses a
// config that re-points a registered key, naming its index.
func TestNewSeedsConfigKeys(t *testing.T) {
	ctx := t.Context()
	deps := testDeps(t)
	st, platform := deps.Store, deps.PlatformKey
	const arn = "arn:aws:kms:eu-west-1:111122223333:key/one"
	cfg := Config{GatewayID: "gw-1", OrgRegion: "eu-west-1", PlatformKeyID: "platform", Keys: []Key{
		{ID: "platform-alias", ProviderType: policy.ProviderPlatform, ProviderKeyID: "platform"},
		{ID: "cust", ProviderType: "AWS_KMS", ProviderKeyID: arn, Region: "eu-west-1"},
	}}
	s, err := New(ctx, cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	k, err := st.GetKey(ctx, "cust")
	if err != nil || k.Binding.Status == store.BindingBound || k.Ref != arn {
		t.Fatalf("config key in the registry: %+v, %v", k, err)
	}
	if _, err := st.GetKey(ctx, "platform-alias"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the platform key's alias reached the store: %v", err)
	}
	if got := (*s.Catalog().Keys())["platform-alias"]; got != platform {
		t.Fatalf("catalog: platform-alias is %v, want %v", got, platform)
	}
	if r := (*s.Catalog().Registry())["platform-alias"]; !r.Bound || !r.Enabled {
		t.Fatalf("registry view of the alias: %+v", r)
	}

	cfg.Keys[1].ProviderKeyID = "arn:aws:kms:eu-west-1:111122223333:key/two"
	_, err = New(ctx, cfg, deps)
	var re *RepointError
	if !errors.As(err, &re) || re.Index != 1 || re.Key != "cust" || re.StoredRef != arn {
		t.Fatalf("re-pointed config key: %v", err)
	}
}

// testDeps are a store on a fresh SQLite file and a local keyring holding
// the platform key "platform".
func testDeps(t *testing.T) Deps {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(t.Context(), store.Config{SQLitePath: filepath.Join(dir, "index.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kr, err := local.Open(filepath.Join(dir, "keys"), "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.EnsureKey("platform"); err != nil {
		t.Fatal(err)
	}
	return Deps{Store: st, Providers: kms.Registry{local.ProviderName: kr},
		PlatformKey: kms.KeyRef{Provider: local.ProviderName, KeyID: "platform"}}
}
