package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/local"
)

func TestMain(m *testing.M) { testenv.PostgresMain(m) }

const (
	adminToken = "bootstrap-admin-token"
	orgRegion  = "eu-west-2"
)

// env is one API server on a fresh database of one dialect, with a local
// platform keyring as its PLATFORM provider.
type env struct {
	t       *testing.T
	url     string
	st      *store.SQL
	keyring *local.Keyring
}

type envOptions struct {
	keyringRegion string
	providers     kms.Registry
	authorizer    api.Authorizer
}

var dialects = []string{store.DialectSQLite, store.DialectPostgres}

// forEachDialect runs fn against SQLite and PostgreSQL.
func forEachDialect(t *testing.T, fn func(t *testing.T, dialect string)) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

func newEnv(t *testing.T, dialect string, o envOptions) *env {
	t.Helper()
	cfg := store.Config{SQLitePath: filepath.Join(t.TempDir(), "control.db")}
	if dialect == store.DialectPostgres {
		cfg = store.Config{PostgresDSN: testenv.PostgresDSN(t)}
	}
	st, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if o.keyringRegion == "" {
		o.keyringRegion = orgRegion
	}
	kr, err := local.Open(filepath.Join(t.TempDir(), "keyring"), o.keyringRegion)
	if err != nil {
		t.Fatal(err)
	}
	providers := kms.Registry{local.ProviderName: kr}
	for k, v := range o.providers {
		providers[k] = v
	}
	if o.authorizer == nil {
		o.authorizer = api.BootstrapToken(adminToken)
	}
	h := api.New(api.Deps{Store: st, KMS: providers, OrgRegion: orgRegion, Authorizer: o.authorizer,
		Logger: zaptest.NewLogger(t), MaxBodyBytes: 4096, PlatformKeyID: "platform"})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, url: srv.URL, st: st, keyring: kr}
}

// response is a decoded reply.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r response) str(key string) string {
	v, _ := r.body[key].(string)
	return v
}

func (r response) num(key string) float64 {
	v, _ := r.body[key].(float64)
	return v
}

func (r response) entities() []map[string]any {
	list, _ := r.body["entities"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		out = append(out, e.(map[string]any))
	}
	return out
}

// do sends a request with the admin token; headers are name, value pairs
// (an "Authorization" pair replaces the token, an empty one removes it).
func (e *env) do(method, path, body string, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if len(b) > 0 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			e.t.Fatalf("%s %s: Content-Type %q, body %s", method, path, ct, b)
		}
		if err := json.Unmarshal(b, &out.body); err != nil {
			e.t.Fatalf("%s %s: reply is not a JSON object: %v\n%s", method, path, err, b)
		}
	}
	return out
}

// apiCase is one request and what must come back.
type apiCase struct {
	name    string
	method  string
	path    string
	body    string
	headers []string
	status  int
	// code and field are checked on error replies.
	code  string
	field string
	// contains are substrings the raw reply must contain.
	contains []string
}

func (e *env) run(cases []apiCase) {
	e.t.Helper()
	for _, c := range cases {
		r := e.do(c.method, c.path, c.body, c.headers...)
		if r.status != c.status {
			e.t.Errorf("%s: %s %s = %d, want %d\n%s", c.name, c.method, c.path, r.status, c.status, r.raw)
			continue
		}
		if c.code != "" && r.str("code") != c.code {
			e.t.Errorf("%s: code %q, want %q\n%s", c.name, r.str("code"), c.code, r.raw)
		}
		if c.field != "" && r.str("field") != c.field {
			e.t.Errorf("%s: field %q, want %q\n%s", c.name, r.str("field"), c.field, r.raw)
		}
		if r.status >= 400 && int(r.num("status")) != r.status {
			e.t.Errorf("%s: error body status %v, want %d", c.name, r.body["status"], r.status)
		}
		for _, s := range c.contains {
			if !strings.Contains(r.raw, s) {
				e.t.Errorf("%s: reply lacks %q\n%s", c.name, s, r.raw)
			}
		}
	}
}

func TestAuthorizationLayer(t *testing.T) {
	forbidWrites := api.AuthorizerFunc(func(r *http.Request, scope string) (api.Principal, error) {
		tok, err := httpx.BearerToken(r)
		if err != nil || tok != "reader" {
			return api.Principal{}, fmt.Errorf("%w: who are you", api.ErrUnauthenticated)
		}
		if strings.HasSuffix(scope, ":write") {
			return api.Principal{}, fmt.Errorf("%w: reader tokens cannot write", api.ErrForbidden)
		}
		return api.Principal{ID: "reader", Scopes: []string{scope}}, nil
	})
	forEachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, envOptions{})
		e.run([]apiCase{
			{name: "no token", method: "GET", path: "/api/v2/keys", headers: []string{"Authorization", ""}, status: 401, code: api.CodeUnauthenticated},
			{name: "wrong token", method: "GET", path: "/api/v2/recordings/policies", headers: []string{"Authorization", "Bearer nope"}, status: 401, code: api.CodeUnauthenticated},
			{name: "basic scheme", method: "GET", path: "/api/v2/recordings", headers: []string{"Authorization", "Basic " + adminToken}, status: 401},
			{name: "admin token", method: "GET", path: "/api/v2/recordings", status: 200},
			{name: "unknown path", method: "GET", path: "/api/v2/nothing", status: 404, code: api.CodeNotFound},
			{name: "wrong method", method: "PATCH", path: "/api/v2/keys", status: 405, code: api.CodeMethodNotAllowed},
		})
		ro := newEnv(t, d, envOptions{authorizer: forbidWrites})
		ro.run([]apiCase{
			{name: "reader reads", method: "GET", path: "/api/v2/keys", headers: []string{"Authorization", "Bearer reader"}, status: 200},
			{name: "reader cannot write", method: "POST", path: "/api/v2/keys", body: `{}`, headers: []string{"Authorization", "Bearer reader"},
				status: 403, code: api.CodeForbidden, contains: []string{api.ScopeKeyWrite}},
			{name: "scope checked before body", method: "POST", path: "/api/v2/recordings/policies", body: `{not json`,
				headers: []string{"Authorization", "Bearer reader"}, status: 403, contains: []string{api.ScopePolicyWrite}},
		})
	})
}

// Every route declares a scope, and the route table is what the server
// serves.
func TestRoutesDeclareScopes(t *testing.T) {
	known := map[string]bool{api.ScopePolicyRead: true, api.ScopePolicyWrite: true, api.ScopeKeyRead: true,
		api.ScopeKeyWrite: true, api.ScopeRecordingsRead: true, api.ScopeAuditRead: true, api.ScopePlayback: true,
		api.ScopeApprovalsRead: true, api.ScopeApprovalsPropose: true, api.ScopeApprovalsApprove: true, api.ScopeApprovalsVeto: true, api.ScopeLegalHold: true}
	seen := map[string]bool{}
	for _, rt := range api.Routes() {
		if !known[rt.Scope] {
			t.Errorf("%s %s has scope %q", rt.Method, rt.Pattern, rt.Scope)
		}
		if rt.Method == "GET" && strings.HasSuffix(rt.Scope, ":write") || rt.Method != "GET" && strings.HasSuffix(rt.Scope, ":read") {
			t.Errorf("%s %s: scope %s does not fit the method", rt.Method, rt.Pattern, rt.Scope)
		}
		k := rt.Method + " " + rt.Pattern
		if seen[k] {
			t.Errorf("route %s twice", k)
		}
		seen[k] = true
	}
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
