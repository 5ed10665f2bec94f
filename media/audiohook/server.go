package audiohook

import (
	"errors"
	"fmt"
	"net/http"

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
	// Integrations are the control plane's (nil: only Config's).
	Integrations Source
	Config       Config
}

// Server is the AudioHook Monitor endpoint.
type Server struct {
	cfg    Config
	m      *media.Manager
	log    *zap.SugaredLogger
	verify *Verifier
	// EndpointCounters: upgrades refused, streams ended, what was
	// not recorded, by reason.
	media.EndpointCounters
	limit *media.LiveLimit
}

// New returns the endpoint, or an error for an invalid Config.
func New(deps Deps) (*Server, error) {
	cfg := deps.Config
	if err := cfg.setDefaults(deps.Integrations != nil); err != nil {
		return nil, err
	}
	if deps.Media == nil {
		return nil, errors.New("audiohook: New needs Deps.Media")
	}
	s := &Server{cfg: cfg, m: deps.Media, log: cfg.Logger.Sugar(),
		verify: &Verifier{Integrations: cfg.Integrations, Source: deps.Integrations, MaxSkew: cfg.MaxSkew, MaxAge: cfg.MaxAge, Now: cfg.Now},
	}
	c, err := media.NewEndpointCounters(deps.Registerer, "audiohook", "sessions", "AudioHook")
	if err != nil {
		return nil, err
	}
	s.EndpointCounters = c
	s.limit = &media.LiveLimit{Max: cfg.MaxPerKey}
	return s, nil
}

// Mount builds the endpoint and mounts it when Config.Enabled is set; a
// configuration it cannot use is logged and the endpoint stays off, so no
// session is taken unauthenticated.
func Mount(mux httpx.Router, deps Deps) {
	media.MountEndpoint(mux, deps.Config.Enabled, deps.Config.Logger, "AudioHook", func() (media.Endpoint, error) { return New(deps) })
}

// Register mounts the endpoint at Config.Path.
func (s *Server) Register(mux httpx.Router) { mux.HandleFunc("GET "+s.cfg.Path, s.serve) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	ig, err := s.verify.Verify(r)
	if err != nil {
		reason := RefusedMalformed
		var se *SigError
		if errors.As(err, &se) {
			reason = se.Reason
		}
		s.Refused.WithLabelValues(reason).Inc()
		if s.verify.Source != nil {
			s.verify.Source.Refused(r.Context(), reason, r.Header.Get(HeaderAPIKey), r)
		}
		s.log.Infow("AudioHook upgrade refused", "reason", reason, "error", err, "remote", r.RemoteAddr,
			"session", r.Header.Get(HeaderSessionID))
		if reason == RefusedUnavailable { // could not check: refused, and said so
			httpx.WriteError(w, &httpx.Error{Status: http.StatusServiceUnavailable, Code: httpx.CodeUnavailable,
				Message: "AudioHook integrations cannot be read now"})
			return
		}
		httpx.WriteError(w, &httpx.Error{Status: http.StatusUnauthorized, Code: httpx.CodeUnauthenticated,
			Message: "AudioHook signature refused: " + reason})
		return
	}
	id := r.Header.Get(HeaderSessionID)
	if id == "" || len(id) > 64 {
		s.Refused.WithLabelValues("session_id").Inc()
		httpx.WriteError(w, &httpx.Error{Status: http.StatusBadRequest, Code: httpx.CodeBadRequest,
			Message: HeaderSessionID + " is required (at most 64 characters)"})
		return
	}
	if !s.limit.Acquire(ig.Name) {
		s.Refused.WithLabelValues("key_limit").Inc()
		httpx.WriteError(w, &httpx.Error{Status: http.StatusTooManyRequests, Code: httpx.CodeTooManyRequests,
			Message: fmt.Sprintf("integration has %d live AudioHook sessions", s.cfg.MaxPerKey)})
		return
	}
	defer s.limit.Release(ig.Name)
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		s.Refused.WithLabelValues("upgrade").Inc()
		return
	}
	conn.SetReadLimit(max(s.cfg.MaxMessageBytes, s.cfg.MaxFrameBytes))
	st := &stream{srv: s, conn: conn, integration: ig.Name, id: id, org: r.Header.Get(HeaderOrganizationID)}
	s.Ended.WithLabelValues(st.run(r.Context())).Inc()
}
