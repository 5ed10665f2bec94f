package httpx

import (
	"net/http"
	"slices"
	"sync"
)

// Router is what a service registers its endpoints on: an *http.ServeMux,
// or a Mux that also remembers them.
type Router interface {
	Handle(pattern string, h http.Handler)
	HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request))
}

var _ Router = (*http.ServeMux)(nil)

// Mux is an http.ServeMux that remembers the patterns registered on it:
// http.ServeMux cannot list them, and the OpenAPI contract test
// (docs/openapi.yaml) must walk the router the gateway really serves, so
// an endpoint added anywhere shows up there until it is documented.
type Mux struct {
	mux      http.ServeMux
	mu       sync.Mutex
	patterns []string
}

var _ Router = (*Mux)(nil)

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{} }

// Handle registers h for pattern (http.ServeMux syntax).
func (m *Mux) Handle(pattern string, h http.Handler) {
	m.mux.Handle(pattern, h)
	m.mu.Lock()
	m.patterns = append(m.patterns, pattern)
	m.mu.Unlock()
}

// HandleFunc registers h for pattern.
func (m *Mux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// ServeHTTP routes r as http.ServeMux does.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.mux.ServeHTTP(w, r) }

// Patterns returns the registered patterns, in registration order.
func (m *Mux) Patterns() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.patterns)
}
