package twilio

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
	// Authorizer checks bearer tokens (AuthBearer); the session API's.
	Authorizer httpx.Authorizer
	// Registerer takes the endpoint's counters; nil: not registered.
	Registerer prometheus.Registerer
	Config     Config
}

// Server is the Media Streams endpoint.
type Server struct {
	cfg  Config
	m    *media.Manager
	auth httpx.Authorizer
	log  *zap.SugaredLogger
	// refused, ended and dropped are the endpoint's counters
	// (media.EndpointCounters).
	refused, ended, dropped *prometheus.CounterVec
	limit                   *media.LiveLimit
}

// New returns the endpoint, or an error for an invalid Config.
func New(deps Deps) (*Server, error) {
	cfg := deps.Config
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if deps.Media == nil || (cfg.Auth == AuthBearer && deps.Authorizer == nil) {
		return nil, errors.New("twilio: New needs Deps.Media and, for bearer auth, Deps.Authorizer")
	}
	s := &Server{cfg: cfg, m: deps.Media, auth: deps.Authorizer, log: cfg.Logger.Sugar()}
	c, err := media.NewEndpointCounters(deps.Registerer, "twilio", "streams", "Twilio Media Streams")
	if err != nil {
		return nil, err
	}
	s.refused, s.ended, s.dropped = c.Refused, c.Ended, c.Dropped
	s.limit = &media.LiveLimit{Max: cfg.MaxPerPrincipal}
	return s, nil
}

// Mount builds the endpoint and mounts it when Config.Enabled is set; a
// configuration it cannot use is logged and the endpoint stays off, so no
// stream is taken unauthenticated.
func Mount(mux httpx.Router, deps Deps) {
	if !deps.Config.Enabled {
		return
	}
	s, err := New(deps)
	if err != nil {
		if deps.Config.Logger != nil {
			deps.Config.Logger.Error("Twilio endpoint disabled", zap.Error(err))
		}
		return
	}
	s.Register(mux)
}

// Register mounts the endpoint at Config.Path.
func (s *Server) Register(mux httpx.Router) {
	mux.HandleFunc("GET "+s.cfg.Path, s.serve)
}

// Counters returns the counters (for tests): refused, ended, dropped.
func (s *Server) Counters() (refused, ended, dropped *prometheus.CounterVec) {
	return s.refused, s.ended, s.dropped
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	principal, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if !s.limit.Acquire(principal) {
		s.refused.WithLabelValues("principal_limit").Inc()
		httpx.WriteError(w, &httpx.Error{Status: http.StatusTooManyRequests, Code: httpx.CodeTooManyRequests,
			Message: fmt.Sprintf("principal has %d live Twilio streams", s.cfg.MaxPerPrincipal)})
		return
	}
	defer s.limit.Release(principal)
	// Twilio sends no Origin; a browser page does, and is refused unless
	// it is this host's own (the library's default check).
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		s.refused.WithLabelValues("upgrade").Inc()
		return // Accept has answered
	}
	conn.SetReadLimit(s.cfg.MaxMessageBytes)
	st := &stream{srv: s, conn: conn, principal: principal}
	reason := st.run(r.Context())
	s.ended.WithLabelValues(reason).Inc()
}

// authenticate checks the upgrade request before the upgrade; on a
// refusal it has answered 401 (or 403 for a token without the scope).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	if s.cfg.Auth == AuthSignature {
		if !VerifySignature(r, s.cfg.AuthToken, requestURL(r, s.cfg.PublicURL)) {
			s.refused.WithLabelValues("bad_signature").Inc()
			httpx.WriteError(w, &httpx.Error{Status: http.StatusUnauthorized, Code: httpx.CodeUnauthenticated,
				Message: "missing or invalid " + SignatureHeader})
			return "", false
		}
		return "twilio-account:" + s.cfg.AccountSid, true
	}
	p, err := s.auth.Authorize(r, ScopeIngest)
	if err != nil {
		reason := "unauthenticated"
		if errors.Is(err, httpx.ErrForbidden) {
			reason = "forbidden"
		}
		s.refused.WithLabelValues(reason).Inc()
		httpx.WriteError(w, httpx.AuthError(w, ScopeIngest, err))
		return "", false
	}
	return p.ID, true
}
