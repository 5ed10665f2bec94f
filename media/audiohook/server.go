package audiohook

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/media"
)

// Deps is what the endpoint needs.
type Deps struct {
	Media *media.Manager
	// Registerer takes the endpoint's counters; nil: not registered.
	Registerer prometheus.Registerer
	Config     Config
}

// Server is the AudioHook Monitor endpoint.
type Server struct {
	cfg    Config
	m      *media.Manager
	log    *zap.SugaredLogger
	verify *Verifier
	// refused counts upgrades refused before the WebSocket (by reason),
	// ended sessions by how they ended, dropped what a live session could
	// not record.
	refused, ended, dropped *prometheus.CounterVec

	mu   sync.Mutex
	live map[string]int // live sessions by integration
}

// New returns the endpoint, or an error for an invalid Config.
func New(deps Deps) (*Server, error) {
	cfg := deps.Config
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if deps.Media == nil {
		return nil, errors.New("audiohook: New needs Deps.Media")
	}
	s := &Server{cfg: cfg, m: deps.Media, log: cfg.Logger.Sugar(), live: map[string]int{},
		verify: &Verifier{Integrations: cfg.Integrations, MaxSkew: cfg.MaxSkew, MaxAge: cfg.MaxAge, Now: cfg.Now},
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mediaseal_audiohook_refused_total",
			Help: "AudioHook upgrades refused before the WebSocket, by reason."}, []string{"reason"}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mediaseal_audiohook_sessions_ended_total",
			Help: "AudioHook sessions ended, by reason (close, disconnect, idle, protocol errors...)."}, []string{"reason"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mediaseal_audiohook_dropped_total",
			Help: "AudioHook audio or messages of live sessions not recorded, by reason."}, []string{"reason"}),
	}
	if deps.Registerer != nil {
		for _, c := range []prometheus.Collector{s.refused, s.ended, s.dropped} {
			if err := deps.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("audiohook: register metrics: %w", err)
			}
		}
	}
	return s, nil
}

// Mount builds the endpoint and mounts it when Config.Enabled is set; a
// configuration it cannot use is logged and the endpoint stays off, so no
// session is taken unauthenticated.
func Mount(mux httpx.Router, deps Deps) {
	if !deps.Config.Enabled {
		return
	}
	s, err := New(deps)
	if err != nil {
		if deps.Config.Logger != nil {
			deps.Config.Logger.Error("AudioHook endpoint disabled", zap.Error(err))
		}
		return
	}
	s.Register(mux)
}

// Register mounts the endpoint at Config.Path.
func (s *Server) Register(mux httpx.Router) { mux.HandleFunc("GET "+s.cfg.Path, s.serve) }

// Counters returns the counters (for tests): refused, ended, dropped.
func (s *Server) Counters() (refused, ended, dropped *prometheus.CounterVec) {
	return s.refused, s.ended, s.dropped
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	ig, err := s.verify.Verify(r)
	if err != nil {
		reason := RefusedMalformed
		var se *SigError
		if errors.As(err, &se) {
			reason = se.Reason
		}
		s.refused.WithLabelValues(reason).Inc()
		s.log.Infow("AudioHook upgrade refused", "reason", reason, "error", err, "remote", r.RemoteAddr,
			"session", r.Header.Get(HeaderSessionID))
		httpx.WriteError(w, &httpx.Error{Status: http.StatusUnauthorized, Code: httpx.CodeUnauthenticated,
			Message: "AudioHook signature refused: " + reason})
		return
	}
	id := r.Header.Get(HeaderSessionID)
	if id == "" || len(id) > 64 {
		s.refused.WithLabelValues("session_id").Inc()
		httpx.WriteError(w, &httpx.Error{Status: http.StatusBadRequest, Code: httpx.CodeBadRequest,
			Message: HeaderSessionID + " is required (at most 64 characters)"})
		return
	}
	if !s.acquire(ig.Name) {
		s.refused.WithLabelValues("key_limit").Inc()
		httpx.WriteError(w, &httpx.Error{Status: http.StatusTooManyRequests, Code: httpx.CodeTooManyRequests,
			Message: fmt.Sprintf("integration has %d live AudioHook sessions", s.cfg.MaxPerKey)})
		return
	}
	defer s.release(ig.Name)
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		s.refused.WithLabelValues("upgrade").Inc()
		return
	}
	conn.SetReadLimit(max(s.cfg.MaxMessageBytes, s.cfg.MaxFrameBytes))
	st := &stream{srv: s, conn: conn, integration: ig.Name, id: id, org: r.Header.Get(HeaderOrganizationID)}
	s.ended.WithLabelValues(st.run(r.Context())).Inc()
}

func (s *Server) acquire(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live[key] >= s.cfg.MaxPerKey {
		return false
	}
	s.live[key]++
	return true
}

func (s *Server) release(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live[key]--; s.live[key] <= 0 {
		delete(s.live, key)
	}
}
