package ceremony_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestOpenAPICoversTheRouter walks the router the running gateway serves
// (every pattern registered on its API mux, and the control plane's
// subtree) against docs/openapi.yaml: a route missing from the spec, a
// spec operation no route serves, or a control-plane scope the spec
// misstates fails it. A new endpoint fails here until it is documented.
func TestOpenAPICoversTheRouter(t *testing.T) {
	// Every optional endpoint on, so the router serves all it can.
	secret := filepath.Join(t.TempDir(), "audiohook.secret")
	if err := os.WriteFile(secret, []byte("MDEyMzQ1Njc4OWFiY2RlZg=="), 0o600); err != nil {
		t.Fatal(err)
	}
	tg := gatewaytest.Start(t, func(c *config.Config) {
		c.AudioHook.Integrations = []config.AudioHookIntegration{{Name: "genesys", APIKey: "api-key-123", ClientSecretFile: secret}}
	})
	doc, _, err := gatewaytest.Spec()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]string{} // "METHOD path" -> scope ("" when not a control-plane route)
	for _, p := range tg.Routes() {
		method, path, ok := strings.Cut(p, " ")
		if !ok { // a subtree or every method
			method, path = "*", p
		}
		path = strings.TrimSuffix(strings.ReplaceAll(path, "...}", "}"), "{$}")
		if path == "/api/v2/" { // the control plane's own mux
			for _, r := range api.Routes() {
				served[r.Method+" "+r.Pattern] = r.Scope
			}
			continue
		}
		served[method+" "+path] = ""
	}
	if len(served) < 40 {
		t.Fatalf("the router lists only %d routes: %v", len(served), tg.Routes())
	}
	documented := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			scope, _ := op.Extensions["x-scope"].(string)
			documented[method+" "+path] = scope
		}
	}
	var missing, extra []string
	for r, scope := range served {
		method, path, _ := strings.Cut(r, " ")
		got, ok := documented[r]
		if method == "*" {
			ok = doc.Paths.Value(path) != nil
		}
		switch {
		case !ok:
			missing = append(missing, r)
		case scope != "" && got != scope:
			t.Errorf("%s: the spec's x-scope is %q, the route needs %q", r, got, scope)
		}
	}
	for r := range documented {
		if _, ok := served[r]; !ok {
			extra = append(extra, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes the gateway serves that docs/openapi.yaml does not describe:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("docs/openapi.yaml operations no route serves:\n  %s", strings.Join(extra, "\n  "))
	}
}

// TestContractCatchesViolations: the harness's validator refuses a
// response of the wrong shape, an error body that is not httpx.Error, an
// undocumented endpoint answered 200, and a request the spec calls
// invalid that was accepted; it lets the JSON 404 of an unknown path and
// a refused invalid request through.
func TestContractCatchesViolations(t *testing.T) {
	_, router, err := gatewaytest.Spec()
	if err != nil {
		t.Fatal(err)
	}
	exchange := func(method, path, reqBody string, status int, body string) error {
		req := httptest.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(reqBody))
		if reqBody != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body))}
		return gatewaytest.CheckExchange(router, req, []byte(reqBody), resp)
	}
	for name, c := range map[string]struct {
		method, path, req string
		status            int
		body              string
		ok                bool
	}{
		"healthz ok":            {"GET", "/healthz", "", 200, `{"status":"ok"}`, true},
		"healthz wrong":         {"GET", "/healthz", "", 200, `{"status":"down"}`, false},
		"error shape":           {"GET", "/api/v2/recordings/x", "", 404, `{"status":404,"code":"not_found","message":"m"}`, true},
		"error not httpx":       {"GET", "/api/v2/recordings/x", "", 404, `{"error":"not found"}`, false},
		"unknown path 404":      {"GET", "/nope", "", 404, `{"status":404,"code":"not_found","message":"m"}`, true},
		"unknown path 200":      {"GET", "/nope", "", 200, `{}`, false},
		"unknown path 500":      {"GET", "/nope", "", 500, `{"status":500,"code":"internal","message":"m"}`, false},
		"bad limit refused":     {"GET", "/api/v2/recordings?limit=0", "", 400, `{"status":400,"code":"invalid_field","message":"m","field":"limit"}`, true},
		"bad limit accepted":    {"GET", "/api/v2/recordings?limit=0", "", 200, `{"entities":[]}`, false},
		"page with extra field": {"GET", "/api/v2/recordings", "", 200, `{"entities":[],"secret":"x"}`, false},
	} {
		if err := exchange(c.method, c.path, c.req, c.status, c.body); (err == nil) != c.ok {
			t.Errorf("%s: CheckExchange = %v, want ok=%v", name, err, c.ok)
		}
	}
}
