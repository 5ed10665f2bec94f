package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestReady(t *testing.T) {
	ok := Check{Name: "store", Probe: ProbeErr(func(context.Context) error { return nil })}
	down := Check{Name: "spool", Probe: ProbeErr(func(context.Context) error { return errors.New("disk full") })}
	for _, tc := range []struct {
		checks []Check
		code   int
		want   map[string]string
	}{
		{[]Check{ok}, http.StatusOK, map[string]string{"store": "ok"}},
		{[]Check{ok, down}, http.StatusServiceUnavailable, map[string]string{"store": "ok", "spool": "disk full"}},
	} {
		rec := httptest.NewRecorder()
		Ready(tc.checks...)(rec, httptest.NewRequest("GET", "/readyz", nil))
		var got map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != tc.code || len(got) != len(tc.want) {
			t.Fatalf("got %d %v %v, want %d %v", rec.Code, got, err, tc.code, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Fatalf("%s: %q, want %q", k, got[k], v)
			}
		}
	}
}
