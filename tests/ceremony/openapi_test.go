package ceremony_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestOpenAPICoversTheRouter walks the router the running gateway serves
// (every pattern registered on its API mux, and the control plane's
// subtree) against docs/openapi.yaml: a route missing from the spec, a
// spec operation no route serves, or a control-plane scope the spec
// misstates fails it. A new endpoint fails here until it is documented.
func TestOpenAPICoversTheRouter(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
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
