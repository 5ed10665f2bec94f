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
	// EndpointCounters: upgrades refused, streams ended, what was
	// not recorded, by reason.
	media.EndpointCounters
	limit *media.LiveLimit
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
	s.EndpointCounters = c
	s.limit = &media.LiveLimit{Max: cfg.MaxPerPrincipal}
	return s, nil
}

// Mount builds the endpoint and mounts it when Config.Enabled is set; a
// configuration it cannot use is logged and the endpoint stays off, so no
// stream is taken unauthenticated.
func Mount(mux httpx.Router, deps Deps) {
	media.MountEndpoint(mux, deps.Config.Enabled, deps.Config.Logger, "Twilio", func() (media.Endpoint, error) { return New(deps) })
}

// Register mounts the endpoint at Config.Path.
func (s *Server) Register(mux httpx.Router) {
	mux.HandleFunc("GET "+s.cfg.Path, s.serve)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	principal, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if !s.limit.Acquire(principal) {
		s.Refused.WithLabelValues("principal_limit").Inc()
		httpx.WriteError(w, &httpx.Error{Status: http.StatusTooManyRequests, Code: httpx.CodeTooManyRequests,
			Message: fmt.Sprintf("principal has %d live Twilio streams", s.cfg.MaxPerPrincipal)})
		return
	}
	defer s.limit.Release(principal)
	// Twilio sends no Origin; a browser page does, and is refused unless
	// it is this host's own (the library's default check).
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		s.Refused.WithLabelValues("upgrade").Inc()
		return // Accept has answered
	}
	conn.SetReadLimit(s.cfg.MaxMessageBytes)
	st := &stream{srv: s, conn: conn, principal: principal}
	reason := st.run(r.Context())
	s.Ended.WithLabelValues(reason).Inc()
}

// authenticate checks the upgrade request before the upgrade; on a
// refusal it has answered 401 (or 403 for a token without the scope).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	if s.cfg.Auth == AuthSignature {
		if !VerifySignature(r, s.cfg.AuthToken, requestURL(r, s.cfg.PublicURL)) {
			s.Refused.WithLabelValues("bad_signature").Inc()
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
		s.Refused.WithLabelValues(reason).Inc()
		httpx.WriteError(w, httpx.AuthError(w, ScopeIngest, err))
		return "", false
	}
	return p.ID, true
}
