package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/auth"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/local"
)

// env is a token service on a real SQLite store with keys wrapped by a
// real local keyring.
type env struct {
	st   *store.SQL
	wrap auth.KeyWrapper
	svc  *auth.Service
}

func newEnv(t testing.TB, cfg auth.Config) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), store.Config{SQLitePath: filepath.Join(dir, "c.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kr, err := local.Open(filepath.Join(dir, "keyring"), "local")
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.EnsureKey("platform"); err != nil {
		t.Fatal(err)
	}
	w := auth.KeyWrapper{Provider: kr, Key: kms.KeyRef{Provider: local.ProviderName, KeyID: "platform"}}
	svc, err := auth.New(context.Background(), st, w, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, wrap: w, svc: svc}
}

func (e *env) principal(t testing.TB, id, kind string, roles ...string) string {
	t.Helper()
	_, secret, err := e.svc.CreatePrincipal(context.Background(), id, id, kind, roles)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func TestSeparationOfDuties(t *testing.T) {
	for _, tc := range []struct {
		roles []string
		ok    bool
		names []string
	}{
		{[]string{auth.RoleKeyAdmin}, true, nil},
		{[]string{auth.RolePolicyAdmin, auth.RoleAuditor}, true, nil},
		{[]string{auth.RoleKeyAdmin, auth.RolePlaybackRequester}, false, []string{auth.ScopeKeyWrite, auth.ScopePlayback}},
		{[]string{auth.RoleKeyAdmin, auth.RolePolicyAdmin}, false, []string{auth.ScopePolicyWrite, auth.ScopeKeyWrite}},
		{[]string{"root"}, false, []string{"root"}},
	} {
		err := auth.CheckSeparation(tc.roles)
		if (err == nil) != tc.ok {
			t.Fatalf("%v: %v", tc.roles, err)
		}
		for _, n := range tc.names {
			if !strings.Contains(err.Error(), n) {
				t.Errorf("%v: %v does not name %s", tc.roles, err, n)
			}
		}
	}
	// Enforced at grant time, not only at creation.
	e := newEnv(t, auth.Config{})
	e.principal(t, "ka", store.PrincipalService, auth.RoleKeyAdmin)
	if err := e.svc.Grant(context.Background(), "op", "ka", auth.RolePlaybackRequester); !errors.Is(err, auth.ErrSeparationOfDuties) {
		t.Fatalf("grant playback to a key admin: %v", err)
	}
	if err := e.svc.Grant(context.Background(), "op", "ka", auth.RoleAuditor); err != nil {
		t.Fatal(err)
	}
	p, _ := e.st.GetPrincipal(context.Background(), "ka")
	if strings.Join(p.Roles, ",") != "auditor,key_admin" {
		t.Fatalf("roles %v", p.Roles)
	}
}

func TestIssueScopesAndLifetime(t *testing.T) {
	e := newEnv(t, auth.Config{})
	ctx := context.Background()
	secret := e.principal(t, "ka", store.PrincipalService, auth.RoleKeyAdmin)
	tok, err := e.svc.Issue(ctx, auth.TokenRequest{ClientID: "ka", ClientSecret: secret,
		Scopes: []string{auth.ScopeKeyWrite, auth.ScopePolicyWrite, auth.ScopeKeyRead}, Lifetime: 5 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(tok.Scopes, " ") != "key_management:read key_management:write" || tok.ExpiresIn != time.Hour {
		t.Fatalf("granted %v for %s; want the intersection for the 1 h cap", tok.Scopes, tok.ExpiresIn)
	}
	id, err := e.svc.Authenticate(ctx, tok.AccessToken)
	if err != nil || id.Principal != "ka" || id.Kind != store.PrincipalService {
		t.Fatalf("%+v %v", id, err)
	}
	for name, req := range map[string]auth.TokenRequest{
		"wrong secret":   {ClientID: "ka", ClientSecret: secret + "x"},
		"unknown client": {ClientID: "nobody", ClientSecret: secret},
		"no secret":      {ClientID: "ka"},
	} {
		if _, err := e.svc.Issue(ctx, req); !errors.Is(err, auth.ErrInvalidClient) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := e.svc.Issue(ctx, auth.TokenRequest{ClientID: "ka", ClientSecret: secret, Scopes: []string{auth.ScopePlayback}}); !errors.Is(err, auth.ErrInvalidScope) {
		t.Errorf("ungranted scope: %v", err)
	}
	// Personal sessions never get ceremony scopes.
	ps := e.principal(t, "alice", store.PrincipalPersonal, auth.RoleKeyAdmin)
	pt, err := e.svc.Issue(ctx, auth.TokenRequest{ClientID: "alice", ClientSecret: ps})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range pt.Scopes {
		if auth.IsCeremonyScope(s) {
			t.Fatalf("personal token got %s", s)
		}
	}
	if err := auth.CheckScope(auth.Identity{Principal: "alice", Kind: store.PrincipalPersonal, Scopes: []string{auth.ScopeKeyWrite}}, auth.ScopeKeyWrite); !errors.Is(err, auth.ErrForbidden) || !strings.Contains(err.Error(), "personal") {
		t.Fatalf("personal ceremony scope: %v", err)
	}
}

// mint issues a token from a second service on the same store and keys,
// with another clock or audience.
func (e *env) mint(t testing.TB, cfg auth.Config, id, secret string) string {
	t.Helper()
	other, err := auth.New(context.Background(), e.st, e.wrap, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := other.Issue(context.Background(), auth.TokenRequest{ClientID: id, ClientSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func TestTokenRefusals(t *testing.T) {
	e := newEnv(t, auth.Config{})
	ctx := context.Background()
	secret := e.principal(t, "ka", store.PrincipalService, auth.RoleKeyAdmin)
	good, err := e.svc.Issue(ctx, auth.TokenRequest{ClientID: "ka", ClientSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good.AccessToken, ".")
	// Another base64url letter at a position whose six bits all count: a
	// XOR could turn '-' or '_' into a byte outside the alphabet, and the
	// token would be refused as malformed before its signature is checked.
	flip := []byte(parts[2])
	flip[3] = 'A'
	if parts[2][3] == 'A' {
		flip[3] = 'B'
	}
	revoked, _ := e.svc.Issue(ctx, auth.TokenRequest{ClientID: "ka", ClientSecret: secret})
	if err := e.svc.Revoke(ctx, "ka", revoked.AccessToken); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, token, reason string }{
		{"expired", e.mint(t, auth.Config{Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }}, "ka", secret), "expired"},
		{"wrong audience", e.mint(t, auth.Config{Audience: "someone-else"}, "ka", secret), "audience"},
		{"wrong issuer", e.mint(t, auth.Config{Issuer: "evil"}, "ka", secret), "issuer"},
		{"tampered signature", parts[0] + "." + parts[1] + "." + string(flip), "signature"},
		{"tampered claims", parts[0] + "." + strings.ToUpper(parts[1][:4]) + parts[1][4:] + "." + parts[2], ""},
		{"alg none", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".", ""},
		{"revoked", revoked.AccessToken, "revoked"},
		{"garbage", "not-a-token", "malformed"},
	} {
		_, err := e.svc.Authenticate(ctx, tc.token)
		if !errors.Is(err, auth.ErrUnauthenticated) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := e.svc.Authenticate(ctx, good.AccessToken); err != nil {
		t.Fatalf("the untouched token: %v", err)
	}
}

// A rotated signing key keeps verifying its tokens; new tokens use the new kid.
func TestSigningKeyRotation(t *testing.T) {
	e := newEnv(t, auth.Config{})
	ctx := context.Background()
	secret := e.principal(t, "ka", store.PrincipalService, auth.RoleKeyAdmin)
	before, _ := e.svc.Issue(ctx, auth.TokenRequest{ClientID: "ka", ClientSecret: secret})
	kid, err := e.svc.RotateSigningKey(ctx, "op")
	if err != nil {
		t.Fatal(err)
	}
	after, _ := e.svc.Issue(ctx, auth.TokenRequest{ClientID: "ka", ClientSecret: secret})
	hdr := func(tok string) string {
		b, _ := jsonPart(tok, 0)
		return b["kid"].(string)
	}
	if hdr(after.AccessToken) != kid || hdr(before.AccessToken) == kid {
		t.Fatalf("kids %s %s, rotated to %s", hdr(before.AccessToken), hdr(after.AccessToken), kid)
	}
	for _, tok := range []string{before.AccessToken, after.AccessToken} {
		if _, err := e.svc.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	// A gateway started before the rotation learns the new key from the store.
	if jwks := e.svc.JWKS()["keys"].([]map[string]string); len(jwks) != 2 {
		t.Fatalf("jwks %v", jwks)
	}
}

func jsonPart(tok string, i int) (map[string]any, error) {
	b, err := base64URL(strings.Split(tok, ".")[i])
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

func TestTokenEndpoints(t *testing.T) {
	e := newEnv(t, auth.Config{})
	secret := e.principal(t, "ka", store.PrincipalService, auth.RoleKeyAdmin)
	mux := http.NewServeMux()
	e.svc.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	post := func(path, ctype, body string, basic bool) (int, map[string]any, http.Header) {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if basic {
			req.SetBasicAuth("ka", url.QueryEscape(secret))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m, resp.Header
	}
	form := "application/x-www-form-urlencoded"
	code, m, h := post(auth.PathToken, form, "grant_type=client_credentials&scope=key_management:read", true)
	if code != 200 || m["token_type"] != "Bearer" || m["scope"] != "key_management:read" || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("form grant: %d %v", code, m)
	}
	code, m, _ = post(auth.PathTokenJSON, "application/json",
		`{"grantType":"client_credentials","scopes":["key_management:read","key_management:write","recording_policy:read"],"applicationId":"ka","expirationSeconds":3600,"clientSecret":"`+secret+`"}`, false)
	if code != 200 || m["tokenType"] != "Bearer" || m["expiresIn"].(float64) != 3600 || len(m["scopes"].([]any)) != 2 {
		t.Fatalf("guide grant: %d %v", code, m)
	}
	for _, tc := range []struct {
		name, path, ctype, body string
		basic                   bool
		status                  int
		code                    string
	}{
		{"wrong grant", auth.PathToken, form, "grant_type=password", true, 400, "unsupported_grant_type"},
		{"no client auth", auth.PathToken, form, "grant_type=client_credentials", false, 401, "invalid_client"},
		{"wrong secret", auth.PathToken, form, "grant_type=client_credentials&client_id=ka&client_secret=nope", false, 401, "invalid_client"},
		{"two auth methods", auth.PathToken, form, "grant_type=client_credentials&client_secret=x", true, 400, "invalid_request"},
		{"repeated param", auth.PathToken, form, "grant_type=client_credentials&scope=a&scope=b", true, 400, "invalid_request"},
		{"ungranted scope", auth.PathToken, form, "grant_type=client_credentials&scope=recording:playback", true, 400, "invalid_scope"},
		{"json as form", auth.PathToken, "application/json", "{}", true, 400, "invalid_request"},
		{"unknown json field", auth.PathTokenJSON, "application/json", `{"grantType":"client_credentials","admin":true}`, true, 400, "invalid_request"},
		{"applicationId mismatch", auth.PathTokenJSON, "application/json", `{"grantType":"client_credentials","applicationId":"other"}`, true, 400, "invalid_request"},
	} {
		code, m, _ := post(tc.path, tc.ctype, tc.body, tc.basic)
		if code != tc.status || m["error"] != tc.code {
			t.Errorf("%s: %d %v", tc.name, code, m)
		}
	}
}
