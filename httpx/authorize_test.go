package httpx_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/httpx"
)

const goodToken = "s3cr3t-Token_0.9~+/=="

// serve runs one request with the given Authorization headers through
// RequireScope over a StaticToken and returns the recorder.
func serve(t *testing.T, auth ...string) *httptest.ResponseRecorder {
	t.Helper()
	h := httpx.RequireScope(httpx.StaticToken("ingest", goodToken), "media:ingest",
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := httpx.PrincipalFrom(r.Context())
			if !ok || p.ID != "ingest" {
				t.Errorf("principal %+v %v", p, ok)
			}
			w.WriteHeader(http.StatusNoContent)
		}))
	r := httptest.NewRequest("GET", "/x", nil)
	for _, a := range auth {
		r.Header.Add("Authorization", a)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// decodeError decodes the one error shape, refusing any other member.
func decodeError(t *testing.T, w *httptest.ResponseRecorder) httpx.Error {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var e httpx.Error
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body: %v", err)
	}
	if e.Status != w.Code || e.Code == "" || e.Message == "" {
		t.Fatalf("error body %+v for status %d", e, w.Code)
	}
	return e
}

func TestRequireScopeMalformedAuthorization(t *testing.T) {
	cases := []struct {
		name      string
		headers   []string
		challenge string // WWW-Authenticate
	}{
		{"missing", nil, `Bearer realm="mediaseal"`},
		{"other scheme", []string{"Basic " + goodToken}, `Bearer realm="mediaseal"`},
		{"scheme only", []string{"Bearer"}, `Bearer realm="mediaseal", error="invalid_token"`},
		{"scheme and blanks", []string{"Bearer    "}, `Bearer realm="mediaseal", error="invalid_token"`},
		{"lower-case scheme, wrong token", []string{"bearer nope"}, `Bearer realm="mediaseal", error="invalid_token"`},
		{"two headers", []string{"Bearer " + goodToken, "Bearer " + goodToken}, `Bearer realm="mediaseal", error="invalid_token"`},
		{"two headers, one wrong", []string{"Bearer nope", "Bearer " + goodToken}, `Bearer realm="mediaseal", error="invalid_token"`},
		{"very long token", []string{"Bearer " + strings.Repeat("a", httpx.MaxTokenLen+1)}, `Bearer realm="mediaseal", error="invalid_token"`},
		{"very long token with the right prefix", []string{"Bearer " + goodToken + strings.Repeat("a", 1<<16)}, `Bearer realm="mediaseal", error="invalid_token"`},
		{"token with a blank inside", []string{"Bearer " + goodToken + " x"}, `Bearer realm="mediaseal", error="invalid_token"`},
		{"token with a control byte", []string{"Bearer " + goodToken + "\x01"}, `Bearer realm="mediaseal", error="invalid_token"`},
		{"token prefix", []string{"Bearer " + goodToken[:5]}, `Bearer realm="mediaseal", error="invalid_token"`},
		{"padding only", []string{"Bearer ==="}, `Bearer realm="mediaseal", error="invalid_token"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := serve(t, c.headers...)
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", w.Code)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != c.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, c.challenge)
			}
			if e := decodeError(t, w); e.Code != httpx.CodeUnauthenticated || e.Scope != "" {
				t.Errorf("body %+v", e)
			}
		})
	}
}

// The scheme is case-insensitive (RFC 7235 §2.1): clients that send
// "bearer" are served, as by every parser this one replaces.
func TestRequireScopeAcceptsTheToken(t *testing.T) {
	for _, h := range []string{"Bearer " + goodToken, "bearer " + goodToken, "BEARER  " + goodToken + " "} {
		if w := serve(t, h); w.Code != http.StatusNoContent {
			t.Errorf("%q: status %d %s", h, w.Code, w.Body)
		}
	}
}

func TestStaticTokenEmptyRefusesEverything(t *testing.T) {
	a := httpx.StaticToken("x", "")
	for _, h := range []string{"", "Bearer ", "Bearer a"} {
		r := httptest.NewRequest("GET", "/", nil)
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		if _, err := a.Authorize(r, "s"); !errors.Is(err, httpx.ErrUnauthenticated) {
			t.Errorf("%q: %v", h, err)
		}
	}
}

func TestForbiddenNamesTheScope(t *testing.T) {
	a := httpx.AuthorizerFunc(func(*http.Request, string) (httpx.Principal, error) {
		return httpx.Principal{}, fmt.Errorf("%w: token of bob lacks it", httpx.ErrForbidden)
	})
	h := httpx.RequireScope(a, "metrics:read", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("handler ran")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	e := decodeError(t, w)
	if w.Code != http.StatusForbidden || e.Code != httpx.CodeForbidden || e.Scope != "metrics:read" || !strings.Contains(e.Message, "bob") {
		t.Fatalf("%d %+v", w.Code, e)
	}
	if got := w.Header().Get("WWW-Authenticate"); !strings.Contains(got, `error="insufficient_scope"`) {
		t.Errorf("WWW-Authenticate %q", got)
	}
}

func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  a=", "Bearer", "Basic x", "Bearer a b", "Bearer " + strings.Repeat("z", 5000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{h}
		tok, err := httpx.BearerToken(r)
		if err != nil {
			if !errors.Is(err, httpx.ErrUnauthenticated) || tok != "" {
				t.Fatalf("%q: %q %v", h, tok, err)
			}
			return
		}
		if tok == "" || len(tok) > httpx.MaxTokenLen || strings.ContainsAny(tok, " \t\r\n") || !strings.Contains(h, tok) {
			t.Fatalf("%q gave token %q", h, tok)
		}
	})
}

func TestTokenEqual(t *testing.T) {
	for _, c := range []struct {
		got, want string
		eq        bool
	}{
		{"abc", "abc", true}, {"abc", "abd", false}, {"ab", "abc", false}, {"abcd", "abc", false},
		{"", "", false}, {"x", "", false}, {"", "x", false},
	} {
		if httpx.TokenEqual(c.got, c.want) != c.eq {
			t.Errorf("TokenEqual(%q, %q) = %v", c.got, c.want, !c.eq)
		}
	}
}

// Scoped asks the authorizer for its scope and runs the handler only for
// what it authorizes.
func TestScopedWrapsHandlerFuncs(t *testing.T) {
	var asked []string
	a := httpx.AuthorizerFunc(func(r *http.Request, scope string) (httpx.Principal, error) {
		asked = append(asked, scope)
		if r.Header.Get("Authorization") != "Bearer "+goodToken {
			return httpx.Principal{}, httpx.ErrUnauthenticated
		}
		return httpx.Principal{ID: "ingest"}, nil
	})
	ran := 0
	h := httpx.Scoped(a, "media:ingest")(func(w http.ResponseWriter, _ *http.Request) { ran++; w.WriteHeader(http.StatusNoContent) })
	for _, c := range []struct {
		auth string
		code int
	}{{"Bearer " + goodToken, http.StatusNoContent}, {"Bearer wrong", http.StatusUnauthorized}, {"", http.StatusUnauthorized}} {
		r := httptest.NewRequest("POST", "/whip", nil)
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		w := httptest.NewRecorder()
		h(w, r)
		if w.Code != c.code {
			t.Errorf("Authorization %q: %d, want %d", c.auth, w.Code, c.code)
		}
	}
	if ran != 1 || len(asked) != 3 || asked[0] != "media:ingest" {
		t.Fatalf("handler ran %d times, scopes asked %v", ran, asked)
	}
}
