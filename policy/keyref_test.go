package policy

import (
	"errors"
	"testing"
)

// TestResolveKeyNeverTrustsTheLabel: only the platform keyring key is the
// platform key; a PLATFORM label on any other key is a customer key or an
// error, and an unbound or disabled key is never usable.
func TestResolveKeyNeverTrustsTheLabel(t *testing.T) {
	reg := func(id string) (RegisteredKey, bool, error) { k, ok := propRegistry[id]; return k, ok, nil }
	for _, tc := range []struct {
		ref              *KeyReference
		platform, usable bool
		err              error
	}{
		{ref: nil, platform: true, usable: true},
		{ref: &KeyReference{KeyID: "platform", ProviderType: ProviderPlatform}, platform: true, usable: true},
		{ref: &KeyReference{KeyID: "plat-alias", ProviderType: ProviderPlatform}, platform: true, usable: true},
		{ref: &KeyReference{KeyID: "ck-local", ProviderType: ProviderPlatform}, usable: true},
		{ref: &KeyReference{KeyID: "ck-aws", ProviderType: "AWS_KMS"}, usable: true},
		{ref: &KeyReference{KeyID: "ck-aws", ProviderType: ProviderPlatform}, err: ErrKeyLabel},
		{ref: &KeyReference{KeyID: "platform", ProviderType: "AWS_KMS"}, err: ErrKeyNotRegistered},
		{ref: &KeyReference{KeyID: "nope", ProviderType: ProviderPlatform}, err: ErrKeyNotRegistered},
		{ref: &KeyReference{KeyID: "ck-unbound", ProviderType: "AWS_KMS"}},
		{ref: &KeyReference{KeyID: "ck-disabled", ProviderType: ProviderPlatform}},
	} {
		rk, err := ResolveKey(tc.ref, "platform", reg)
		if tc.err != nil {
			if !errors.Is(err, tc.err) || !errors.Is(err, ErrKeyReference) {
				t.Errorf("%+v: err %v, want %v", tc.ref, err, tc.err)
			}
			continue
		}
		if err != nil || rk.Platform != tc.platform || rk.Usable != tc.usable {
			t.Errorf("%+v: %+v, %v; want platform %v usable %v", tc.ref, rk, err, tc.platform, tc.usable)
		}
	}
	boom := errors.New("store down")
	if _, err := ResolveKey(&KeyReference{KeyID: "ck-aws", ProviderType: "AWS_KMS"}, "platform",
		func(string) (RegisteredKey, bool, error) { return RegisteredKey{}, false, boom }); !errors.Is(err, boom) {
		t.Fatalf("a registry failure must surface, got %v", err)
	}
}
