package sessionapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/media/sessionapi"
	"github.com/mediaseal/mediaseal/policy"
)

const token = "ingest-token"

// newAPI serves the session API over a running media manager whose one
// policy records nothing (no key, no spool: the API is what is tested)
// and that takes at most maxSessions calls, authorized by a. It returns the server and
// the refusal reasons the API reported.
func newAPI(t *testing.T, maxSessions int, a httpx.Authorizer) (*httptest.Server, func() []string) {
	t.Helper()
	p := policy.Policy{ID: "none", Name: "none", RecordingType: policy.RecordingNone, TargetIDs: []string{"*"}}
	p.Normalize()
	set, err := policy.NewSet([]policy.Policy{p})
	if err != nil {
		t.Fatal(err)
	}
	m := media.NewManager(media.Config{OrgID: "org", BindAddr: netip.MustParseAddr("127.0.0.1"),
		AdvertiseAddr: netip.MustParseAddr("127.0.0.1"), PortMin: 43000, PortMax: 43019, InactivityTimeout: time.Minute,
		MaxPendingBytes: 1 << 20, MaxSessions: maxSessions, FlushInterval: time.Second},
		media.Deps{Policies: func() *policy.Set { return set }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var mu sync.Mutex
	var refused []string
	api := sessionapi.New(sessionapi.Deps{Media: m, Authorizer: a, MaxBodyBytes: 4096,
		Refused: func(r string) { mu.Lock(); refused = append(refused, r); mu.Unlock() }})
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), refused...) }
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func call(t *testing.T, srv *httptest.Server, method, path, auth, body string) reply {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := reply{status: resp.StatusCode, header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&r.body); err != nil {
		t.Fatalf("%s %s: %d, body not JSON: %v", method, path, resp.StatusCode, err)
	}
	return r
}

// wantError checks the one error body: status, code and, when given, the
// field and a part of the message.
func wantError(t *testing.T, r reply, status int, code, field, msg string) {
	t.Helper()
	if r.status != status || r.body["status"] != float64(status) || r.body["code"] != code ||
		fmt.Sprint(r.body["field"]) != map[bool]string{true: "<nil>", false: field}[field == ""] ||
		!strings.Contains(fmt.Sprint(r.body["message"]), msg) {
		t.Fatalf("got %d %v, want %d %s field %q message ~%q", r.status, r.body, status, code, field, msg)
	}
	for k := range r.body {
		if k != "status" && k != "code" && k != "message" && k != "field" && k != "scope" {
			t.Fatalf("error body has %q: %v", k, r.body)
		}
	}
}

const call1 = `{"callId":"c1","queueId":"q","direction":"INBOUND","tracks":[{"label":"caller","kind":"audio","source":"127.0.0.1"}]}`

func TestSessionAPIErrors(t *testing.T) {
	srv, _ := newAPI(t, 10, httpx.StaticToken("media", token))
	bearer := "Bearer " + token
	cases := []struct {
		name, method, path, auth, body string
		status                         int
		code, field, msg               string
	}{
		{"no token", "POST", "/v1/sessions", "", call1, 401, httpx.CodeUnauthenticated, "", "missing bearer token"},
		{"wrong token", "GET", "/v1/sessions/x", "Bearer nope", "", 401, httpx.CodeUnauthenticated, "", "token refused"},
		{"two spaces and lower case still parse", "GET", "/v1/sessions/x", "bearer  " + token, "", 404, httpx.CodeNotFound, "", `"x"`},
		{"malformed JSON", "POST", "/v1/sessions", bearer, `{"callId":`, 400, httpx.CodeMalformedJSON, "callId", "middle"},
		{"unknown field", "POST", "/v1/sessions", bearer, strings.Replace(call1, `"queueId"`, `"x":1,"queueId"`, 1), 400, httpx.CodeUnknownField, "x", ""},
		{"duplicate key", "POST", "/v1/sessions", bearer, strings.Replace(call1, `"callId":"c1"`, `"callId":"c1","callId":"c2"`, 1), 400, httpx.CodeMalformedJSON, "callId", ""},
		{"wrong type", "POST", "/v1/sessions", bearer, `{"callId":5}`, 400, httpx.CodeInvalidField, "callId", "want string"},
		{"too large", "POST", "/v1/sessions", bearer, `{"callId":"` + strings.Repeat("x", 5000) + `"}`, 413, httpx.CodeBodyTooLarge, "", "4096"},
		{"refused call", "POST", "/v1/sessions", bearer, strings.Replace(call1, "INBOUND", "SIDEWAYS", 1), 400, sessionapi.CodeInvalidSession, "", "direction"},
		{"unknown session", "DELETE", "/v1/sessions/nope", bearer, "", 404, httpx.CodeNotFound, "", `"nope"`},
		{"pause unknown", "POST", "/v1/sessions/nope/pause", bearer, "", 404, httpx.CodeNotFound, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := call(t, srv, c.method, c.path, c.auth, c.body)
			wantError(t, r, c.status, c.code, c.field, c.msg)
			if c.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
}

// A token the authorizer knows but not for media:ingest is a 403 naming
// the scope, as on the control plane.
func TestSessionAPIForbiddenNamesTheScope(t *testing.T) {
	deny := httpx.AuthorizerFunc(func(_ *http.Request, scope string) (httpx.Principal, error) {
		return httpx.Principal{}, fmt.Errorf("%w: token of auditor-1 lacks %s", httpx.ErrForbidden, scope)
	})
	srv, _ := newAPI(t, 10, deny)
	r := call(t, srv, "POST", "/v1/sessions", "Bearer x", call1)
	wantError(t, r, 403, httpx.CodeForbidden, "", "auditor-1")
	if r.body["scope"] != sessionapi.ScopeIngest {
		t.Fatalf("scope %v", r.body["scope"])
	}
}

func TestSessionAPILifeAndCapacity(t *testing.T) {
	srv, refused := newAPI(t, 1, httpx.StaticToken("media", token))
	bearer := "Bearer " + token
	r := call(t, srv, "POST", "/v1/sessions", bearer, call1)
	id, _ := r.body["sessionId"].(string)
	if r.status != 201 || id == "" || r.body["recorded"] != false || r.header.Get("Location") != "/v1/sessions/"+id {
		t.Fatalf("create: %d %v %v", r.status, r.body, r.header)
	}
	full := call(t, srv, "POST", "/v1/sessions", bearer, strings.Replace(call1, "c1", "c2", 1))
	wantError(t, full, 503, sessionapi.CodeCapacity, "", "capacity")
	if full.header.Get("Retry-After") != "5" || fmt.Sprint(refused()) != "[capacity]" {
		t.Fatalf("Retry-After %q, refused %v", full.header.Get("Retry-After"), refused())
	}
	if r := call(t, srv, "POST", "/v1/sessions/"+id+"/pause", bearer, ""); r.status != 200 || r.body["paused"] != true {
		t.Fatalf("pause: %d %v", r.status, r.body)
	}
	if r := call(t, srv, "GET", "/v1/sessions/"+id, bearer, ""); r.status != 200 || r.body["sessionId"] != id {
		t.Fatalf("get: %d %v", r.status, r.body)
	}
	if r := call(t, srv, "DELETE", "/v1/sessions/"+id, bearer, ""); r.status != 200 {
		t.Fatalf("end: %d %v", r.status, r.body)
	}
	wantError(t, call(t, srv, "GET", "/v1/sessions/"+id, bearer, ""), 404, httpx.CodeNotFound, "", id)
}
