package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/policy"
)

// faultyStore is the real SQLite store with one read failing on demand: a
// fault the real store cannot be made to show at will.
type faultyStore struct {
	store.Store
	fail string
}

var errInjected = errors.New("injected store failure")

func (f *faultyStore) ListPolicies(ctx context.Context) ([]store.StoredPolicy, error) {
	if f.fail == "ListPolicies" {
		return nil, errInjected
	}
	return f.Store.ListPolicies(ctx)
}

func (f *faultyStore) ListKeys(ctx context.Context) ([]store.Key, error) {
	if f.fail == "ListKeys" {
		return nil, errInjected
	}
	return f.Store.ListKeys(ctx)
}

func (f *faultyStore) GetKey(ctx context.Context, id string) (store.Key, error) {
	if f.fail == "GetKey" {
		return store.Key{}, errInjected
	}
	return f.Store.GetKey(ctx, id)
}

// TestPolicyGateFailsClosedOnStoreError: whatever store read the policy
// gate needs fails, the write is refused with 503, never let through
// ungated.
func TestPolicyGateFailsClosedOnStoreError(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(t.TempDir(), "s.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.CreateKey(ctx, store.Key{ID: "ck", Name: "ck", KeyType: "AWS_KMS", Ref: "arn:x", State: "ENABLED"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateKeyBinding(ctx, "ck", store.Binding{Status: store.BindingBound}); err != nil {
		t.Fatal(err)
	}
	pci := policy.Policy{ID: "pci", Name: "pci", RecordingType: policy.RecordingAudio, TargetIDs: []string{"pci"},
		EncryptionKeyReference: &policy.KeyReference{KeyID: "ck", ProviderType: "AWS_KMS"}}
	pci.Normalize()
	if _, err := st.CreatePolicy(ctx, pci); err != nil {
		t.Fatal(err)
	}
	fs := &faultyStore{Store: st}
	s := &server{deps: Deps{Store: fs, MaxBodyBytes: 1 << 16, PlatformKeyID: "platform"}}
	for _, tc := range []struct{ fail, method, path, body string }{
		{"ListPolicies", "POST", "/api/v2/recordings/policies", `{"id":"h","name":"h","recordingType":"AUDIO","targetIds":["pci"],"conditions":{"direction":"INBOUND"}}`},
		{"ListKeys", "POST", "/api/v2/recordings/policies", `{"id":"h","name":"h","recordingType":"AUDIO","targetIds":["pci"],"conditions":{"direction":"INBOUND"}}`},
		{"GetKey", "PUT", "/api/v2/recordings/policies/pci", `{"name":"pci","recordingType":"AUDIO","targetIds":["pci"],"encryptionKeyReference":{"keyId":"ck","providerType":"AWS_KMS"}}`},
		{"ListPolicies", "DELETE", "/api/v2/recordings/policies/pci", ``},
		{"ListKeys", "DELETE", "/api/v2/recordings/policies/pci", ``},
	} {
		fs.fail = tc.fail
		r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		if tc.method != "POST" {
			r.SetPathValue("id", "pci")
		}
		_, need, err := s.policyGate(r)
		var e *Error
		if !errors.As(err, &e) || e.Status != http.StatusServiceUnavailable || need {
			t.Errorf("%s %s with %s failing: need %v, err %v; want 503", tc.method, tc.path, tc.fail, need, err)
		}
	}
	fs.fail = ""
	r := httptest.NewRequest("DELETE", "/api/v2/recordings/policies/pci", nil)
	r.SetPathValue("id", "pci")
	if ex, need, err := s.policyGate(r); err != nil || !need || ex.Target != "pci" {
		t.Fatalf("delete of the customer-key policy: %+v %v %v; want gated", ex, need, err)
	}
}
