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

// The body is the control plane's documented shape (docs/api.md
// "Errors"): status, code, message, and field / scope only when set.
func TestWriteErrorShape(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{httpx.FieldError("targetIds", "no"), `{"status":400,"code":"invalid_field","message":"no","field":"targetIds"}`},
		{fmt.Errorf("wrapped: %w", httpx.Errorf(404, httpx.CodeNotFound, "no session %q", "s1")), `{"status":404,"code":"not_found","message":"no session \"s1\""}`},
		{&httpx.Error{Status: 403, Code: httpx.CodeForbidden, Message: "m", Scope: "a:b"}, `{"status":403,"code":"forbidden","message":"m","scope":"a:b"}`},
		// Anything else is a 500 that does not echo the error's text.
		{errors.New("open /var/lib/secret-path: denied"), `{"status":500,"code":"internal","message":"internal error"}`},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		httpx.WriteError(w, c.err)
		var got, want any
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal([]byte(c.want), &want)
		if fmt.Sprint(got) != fmt.Sprint(want) || w.Code != int(want.(map[string]any)["status"].(float64)) {
			t.Errorf("%v: %d %s, want %s", c.err, w.Code, w.Body, c.want)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("no nosniff")
		}
	}
}

func TestReadJSON(t *testing.T) {
	type req struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	cases := []struct {
		body, ctype string
		status      int
		code, field string
	}{
		{`{"name":"a","n":1}`, "application/json", 200, "", ""},
		{`{"name":"a"}`, "", 200, "", ""},
		{``, "application/json", 400, httpx.CodeMalformedJSON, ""},
		{`{"name":"a"`, "application/json", 400, httpx.CodeMalformedJSON, ""},
		{`{"name":"a"} {}`, "application/json", 400, httpx.CodeMalformedJSON, ""},
		{`{"name":"a","name":"b"}`, "application/json", 400, httpx.CodeMalformedJSON, "name"},
		{`{"nope":1}`, "application/json", 400, httpx.CodeUnknownField, "nope"},
		{`{"n":"1"}`, "application/json", 400, httpx.CodeInvalidField, "n"},
		{`{"name":"` + strings.Repeat("a", 100) + `"}`, "application/json", 413, httpx.CodeBodyTooLarge, ""},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
		if c.ctype != "" {
			r.Header.Set("Content-Type", c.ctype)
		}
		var v req
		err := httpx.ReadJSON(httptest.NewRecorder(), r, 64, &v)
		if c.status == 200 {
			if err != nil {
				t.Errorf("%s: %v", c.body, err)
			}
			continue
		}
		var e *httpx.Error
		if !errors.As(err, &e) || e.Status != c.status || e.Code != c.code || e.Field != c.field {
			t.Errorf("%.40s: %v, want %d %s field %q", c.body, err, c.status, c.code, c.field)
		}
	}
}

func TestCheckJSONType(t *testing.T) {
	for ct, ok := range map[string]bool{"": true, "application/json": true, "application/json; charset=utf-8": true,
		"application/merge-patch+json": true, "text/plain": false, "application/x-www-form-urlencoded": false, "json": false} {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("Content-Type", ct)
		err := httpx.CheckJSONType(r)
		var e *httpx.Error
		if ok != (err == nil) || (!ok && (!errors.As(err, &e) || e.Status != 415 || e.Code != httpx.CodeUnsupportedMedia)) {
			t.Errorf("%q: %v", ct, err)
		}
	}
}

func TestStatusRecorder(t *testing.T) {
	for _, c := range []struct {
		name string
		h    func(w http.ResponseWriter)
		want int
	}{
		{"nothing", func(http.ResponseWriter) {}, 0},
		{"body only", func(w http.ResponseWriter) { _, _ = w.Write([]byte("x")) }, 200},
		{"first header wins", func(w http.ResponseWriter) { w.WriteHeader(418); w.WriteHeader(500) }, 418},
		{"flush", func(w http.ResponseWriter) { w.(http.Flusher).Flush() }, 200},
	} {
		rec := httpx.NewStatusRecorder(httptest.NewRecorder())
		c.h(rec)
		if rec.Status() != c.want {
			t.Errorf("%s: %d, want %d", c.name, rec.Status(), c.want)
		}
	}
	// http.ResponseController reaches the wrapped writer.
	inner := httptest.NewRecorder()
	if err := http.NewResponseController(httpx.NewStatusRecorder(inner)).Flush(); err != nil || !inner.Flushed {
		t.Errorf("ResponseController flush: %v %v", err, inner.Flushed)
	}
}
