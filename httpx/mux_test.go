package httpx

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

func TestMuxRemembersPatterns(t *testing.T) {
	m := NewMux()
	m.HandleFunc("GET /a/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	m.Handle("/sub/", http.NotFoundHandler())
	if got := m.Patterns(); !slices.Equal(got, []string{"GET /a/{id}", "/sub/"}) {
		t.Fatalf("Patterns = %v", got)
	}
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "/a/1", nil))
	if rec.Code != http.StatusTeapot {
		t.Fatalf("routed to %d", rec.Code)
	}
}
