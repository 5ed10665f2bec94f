package sessionapi

import (
	"errors"
	"fmt"
	"github.com/mediaseal/mediaseal/storage"
	"net/http"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/recording"
)

// ScopeIngest is the scope media servers need for the session API.
const ScopeIngest = "media:ingest"

// DefaultMaxBodyBytes caps a request body when Deps.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

// Error codes only the session API uses.
const (
	CodeInvalidSession  = "invalid_session"
	CodeSpoolFull       = "spool_full"
	CodeSpoolUnwritable = "spool_unwritable"
	CodeCapacity        = "capacity"
	CodeIndexBehind     = "index_behind"
	CodeShuttingDown    = "shutting_down"
)

// Deps is what the session API needs.
type Deps struct {
	Media      *media.Manager
	Authorizer httpx.Authorizer
	// MaxBodyBytes caps request bodies (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	Logger       *zap.Logger
	// Refused is told the reason of each session refused with a 503
	// (spool_full, spool_unwritable, index_behind, capacity,
	// shutting_down); may be nil.
	Refused func(reason string)
}

// API is the session API: media servers announce, pause, resume and end
// calls. Every route needs ScopeIngest.
type API struct {
	deps Deps
	log  *zap.Logger
}

// New returns the session API. Deps.Media and Deps.Authorizer are required.
func New(deps Deps) *API {
	if deps.Media == nil || deps.Authorizer == nil {
		panic("sessionapi: New needs Deps.Media and Deps.Authorizer")
	}
	if deps.Logger == nil {
		deps.Logger = zap.NewNop()
	}
	if deps.MaxBodyBytes <= 0 {
		deps.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if deps.Refused == nil {
		deps.Refused = func(string) {}
	}
	return &API{deps: deps, log: deps.Logger}
}

// Register mounts the routes on mux, so the mux's route patterns name
// them (the request metrics are labelled by pattern).
func (a *API) Register(mux httpx.Router) {
	mux.Handle("POST /v1/sessions", a.route(a.createSession))
	mux.Handle("GET /v1/sessions/{id}", a.route(a.getSession))
	mux.Handle("DELETE /v1/sessions/{id}", a.route(a.endSession))
	mux.Handle("POST /v1/sessions/{id}/pause", a.route(a.pauseSession(true)))
	mux.Handle("POST /v1/sessions/{id}/resume", a.route(a.pauseSession(false)))
}

// Handler is the session API alone, on its own mux.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	a.Register(mux)
	return mux
}

// route authorizes a handler for ScopeIngest and renders its error.
func (a *API) route(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return httpx.RequireScope(a.deps.Authorizer, ScopeIngest, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			if e := httpx.WriteError(w, err); e.Code == httpx.CodeInternal {
				a.log.Error("session API", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
			}
		}
	}))
}

type sessionResponse struct {
	SessionID   string            `json:"sessionId"`
	RecordingID string            `json:"recordingId,omitempty"`
	Recorded    bool              `json:"recorded"`
	PolicyID    string            `json:"policyId,omitempty"`
	Reason      string            `json:"reason,omitempty"`
	Tracks      []media.TrackAddr `json:"tracks"`
	Paused      bool              `json:"paused"`
	KeyState    string            `json:"keyState,omitempty"`
	KeyReason   string            `json:"keyReason,omitempty"`
	Packets     int64             `json:"packets"`
	Dropped     int64             `json:"dropped"`
}

func sessionView(s *media.Session) sessionResponse {
	resp := sessionResponse{SessionID: s.ID, RecordingID: s.RecordingID, Recorded: s.Recorded(),
		Reason: s.Decision.Reason, Tracks: s.Addrs(), Paused: s.Paused()}
	if p := s.Decision.Policy; p != nil {
		resp.PolicyID = p.ID
	}
	resp.KeyState, resp.KeyReason = s.KeyState()
	c := s.Counters()
	resp.Packets, resp.Dropped = c.Received, c.Dropped()
	return resp
}

// refusal is the error response for a session the media manager would
// not create, and the reason a 503 is counted under ("" for others).
func refusal(w http.ResponseWriter, err error) (refusal error, reason string) {
	unavailable := func(code, msg string) (error, string) {
		w.Header().Set("Retry-After", "5")
		return httpx.Errorf(http.StatusServiceUnavailable, code, "%s: %v", msg, err), code
	}
	switch {
	case errors.Is(err, media.ErrBadRequest):
		return httpx.Errorf(http.StatusBadRequest, CodeInvalidSession, "invalid session: %v", err), ""
	case errors.Is(err, media.ErrSRTPRequired):
		return httpx.Errorf(http.StatusConflict, CodeSRTPRequired, "%v", err), "" // counted by the manager
	case errors.Is(err, storage.ErrSpoolFull):
		return unavailable(CodeSpoolFull, "recording spool full: object storage is not keeping up; retry later")
	case errors.Is(err, storage.ErrSpoolUnwritable):
		return unavailable(CodeSpoolUnwritable, "recording spool cannot be written; retry later")
	case errors.Is(err, recording.ErrIndexBehind): // wrapped in media.ErrCapacity: named for what is behind
		return unavailable(CodeIndexBehind, "recording index is behind: the store is not keeping up; retry later")
	case errors.Is(err, media.ErrClosed):
		return unavailable(CodeShuttingDown, "gateway shutting down")
	case media.IsCapacity(err):
		return unavailable(CodeCapacity, "gateway at capacity")
	}
	return fmt.Errorf("create session: %w", err), "" // a 500; the error stays in the log
}

func (a *API) createSession(w http.ResponseWriter, r *http.Request) error {
	var req media.Request
	if err := httpx.ReadJSON(w, r, a.deps.MaxBodyBytes, &req); err != nil {
		return err
	}
	if err := keysMayTravel(r, req); err != nil {
		return err
	}
	s, err := a.deps.Media.Create(r.Context(), req)
	if err != nil {
		refused, reason := refusal(w, err)
		if reason != "" {
			a.deps.Refused(reason)
		}
		return refused
	}
	a.log.Info("session created", zap.String("session", s.ID), zap.String("recording", s.RecordingID),
		zap.String("call", req.CallID), zap.String("queue", req.QueueID), zap.Bool("recorded", s.Recorded()),
		zap.String("reason", s.Decision.Reason))
	w.Header().Set("Location", "/v1/sessions/"+s.ID)
	view := sessionView(s)
	for i, key := range s.GeneratedSRTP() { // once: this answer, never a GET
		if key != "" && view.Tracks[i].SRTP != nil {
			view.Tracks[i].SRTP.Crypto = key
		}
	}
	httpx.WriteJSON(w, http.StatusCreated, view)
	return nil
}

func errNoSession(id string) error {
	return httpx.Errorf(http.StatusNotFound, httpx.CodeNotFound, "no such session %q", id)
}

func (a *API) getSession(w http.ResponseWriter, r *http.Request) error {
	s, ok := a.deps.Media.Get(r.PathValue("id"))
	if !ok {
		return errNoSession(r.PathValue("id"))
	}
	httpx.WriteJSON(w, http.StatusOK, sessionView(s))
	return nil
}

func (a *API) endSession(w http.ResponseWriter, r *http.Request) error {
	sum, err := a.deps.Media.End(r.Context(), r.PathValue("id"), "api")
	if errors.Is(err, media.ErrNotFound) {
		return errNoSession(r.PathValue("id"))
	}
	if err != nil {
		return fmt.Errorf("end session %s: %w", r.PathValue("id"), err)
	}
	a.log.Info("session ended", zap.String("session", sum.SessionID), zap.String("recording", sum.RecordingID),
		zap.String("status", string(sum.Status)), zap.Int64("packets", sum.Packets), zap.Int64("chunks", sum.Chunks))
	httpx.WriteJSON(w, http.StatusOK, sum)
	return nil
}

func (a *API) pauseSession(paused bool) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		s, err := a.deps.Media.Pause(r.PathValue("id"), paused)
		if errors.Is(err, media.ErrNotFound) {
			return errNoSession(r.PathValue("id"))
		}
		if err != nil {
			return fmt.Errorf("set pause %v on session %s: %w", paused, r.PathValue("id"), err)
		}
		httpx.WriteJSON(w, http.StatusOK, sessionView(s))
		return nil
	}
}
