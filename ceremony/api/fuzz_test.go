package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
)

// FuzzWriteBodies: no request body makes a write endpoint fail with a 5xx
// or answer anything but JSON.
func FuzzWriteBodies(f *testing.F) {
	for _, s := range []string{pciPolicy, awsKey, `{}`, `{"name":`, `[]`, `null`, `{"targetIds": "x"}`, `{"a":1}{"b":2}`,
		`{"keyMaterial": 1}`, `{"rotationPeriodDays": 1e99}`, "\x00", `{"conditions": {"timeWindow": {"start": "25:00"}}}`} {
		f.Add(s)
	}
	st, err := store.Open(context.Background(), store.Config{SQLitePath: filepath.Join(f.TempDir(), "fuzz.db")})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateKey(context.Background(), store.Key{ID: "k", Name: "k", KeyType: kms.KindLocal.Type, Region: orgRegion, Ref: "k", State: "ENABLED"}); err != nil {
		f.Fatal(err)
	}
	h := api.New(api.Deps{Store: st, OrgRegion: orgRegion, Authorizer: api.BootstrapToken(adminToken), MaxBodyBytes: 4096})
	targets := []struct{ method, path string }{
		{"POST", "/api/v2/recordings/policies"}, {"PUT", "/api/v2/recordings/policies/p1"},
		{"POST", "/api/v2/keys"}, {"POST", "/api/v2/keys/k"}, {"PUT", "/api/v2/keys/k/rotation"},
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, tg := range targets {
			req := httptest.NewRequest(tg.method, tg.path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+adminToken)
			req.Header.Set("If-Match", "1")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("%s %s with %q: %d %s", tg.method, tg.path, body, rec.Code, rec.Body)
			}
			if rec.Code != http.StatusNoContent && rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("%s %s: Content-Type %q", tg.method, tg.path, rec.Header().Get("Content-Type"))
			}
		}
	})
}
