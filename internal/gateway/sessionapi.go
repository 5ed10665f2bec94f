package gateway

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// TokenChecker authorizes a bearer token for a scope.
type TokenChecker func(token, scope string) error

// ScopeIngest is the scope media servers need for the session API.
const ScopeIngest = "media:ingest"

// ScopeMetrics is the scope a Prometheus scraper needs for /metrics.
const ScopeMetrics = "metrics:read"

// staticToken accepts exactly one token (the bootstrap ingest token),
// compared in constant time.
func staticToken(want string) TokenChecker {
	return func(token, _ string) error {
		if subtle.ConstantTimeCompare([]byte(token), []byte(want)) != 1 {
			return errors.New("invalid token")
		}
		return nil
	}
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// errorBody is every API error's JSON shape.
type errorBody struct {
	Error  string `json:"error"`
	Detail string `json:"detail,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string, detail error) {
	b := errorBody{Error: msg}
	if detail != nil {
		b.Detail = detail.Error()
	}
	writeJSON(w, code, b)
}

// requireScope wraps h with bearer-token authorization.
func (g *Gateway) requireScope(scope string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		if tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mediaseal"`)
			writeError(w, http.StatusUnauthorized, "missing bearer token", nil)
			return
		}
		if err := g.checkToken(tok, scope); err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mediaseal", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "token refused", err)
			return
		}
		h(w, r)
	}
}

// decodeStrict decodes one JSON object, rejecting unknown fields, trailing
// data and bodies over the configured limit.
func (g *Gateway) decodeStrict(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, int64(g.cfg.API.MaxBodyBytes))
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("trailing data after the JSON object")
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "request body too large", err)
		} else {
			writeError(w, http.StatusBadRequest, "invalid JSON", err)
		}
		return false
	}
	return true
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

func (g *Gateway) sessionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/sessions", g.requireScope(ScopeIngest, g.createSession))
	mux.HandleFunc("GET /v1/sessions/{id}", g.requireScope(ScopeIngest, g.getSession))
	mux.HandleFunc("DELETE /v1/sessions/{id}", g.requireScope(ScopeIngest, g.endSession))
	mux.HandleFunc("POST /v1/sessions/{id}/pause", g.requireScope(ScopeIngest, g.pauseSession(true)))
	mux.HandleFunc("POST /v1/sessions/{id}/resume", g.requireScope(ScopeIngest, g.pauseSession(false)))
}

func (g *Gateway) createSession(w http.ResponseWriter, r *http.Request) {
	var req media.Request
	if !g.decodeStrict(w, r, &req) {
		return
	}
	s, err := g.media.Create(r.Context(), req)
	switch {
	case errors.Is(err, media.ErrBadRequest):
		writeError(w, http.StatusBadRequest, "invalid session", err)
		return
	case errors.Is(err, spool.ErrFull):
		g.metrics.sessionsRefused.WithLabelValues("spool_full").Inc()
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "recording spool full: object storage is not keeping up; retry later", err)
		return
	case errors.Is(err, spool.ErrUnwritable):
		g.metrics.sessionsRefused.WithLabelValues("spool_unwritable").Inc()
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "recording spool cannot be written; retry later", err)
		return
	case media.IsCapacity(err) || errors.Is(err, media.ErrClosed):
		reason := "capacity"
		if errors.Is(err, media.ErrClosed) {
			reason = "shutting_down"
		}
		g.metrics.sessionsRefused.WithLabelValues(reason).Inc()
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "gateway at capacity", err)
		return
	case err != nil:
		g.log.Error("create session", zap.Error(err))
		writeError(w, http.StatusInternalServerError, "cannot create session", nil)
		return
	}
	g.log.Info("session created", zap.String("session", s.ID), zap.String("recording", s.RecordingID),
		zap.String("call", req.CallID), zap.String("queue", req.QueueID), zap.Bool("recorded", s.Recorded()),
		zap.String("reason", s.Decision.Reason))
	w.Header().Set("Location", "/v1/sessions/"+s.ID)
	writeJSON(w, http.StatusCreated, sessionView(s))
}

func (g *Gateway) getSession(w http.ResponseWriter, r *http.Request) {
	s, ok := g.media.Get(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, "no such session", nil)
		return
	}
	writeJSON(w, http.StatusOK, sessionView(s))
}

func (g *Gateway) endSession(w http.ResponseWriter, r *http.Request) {
	sum, err := g.media.End(r.Context(), r.PathValue("id"), "api")
	if errors.Is(err, media.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such session", nil)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "cannot end session", err)
		return
	}
	g.log.Info("session ended", zap.String("session", sum.SessionID), zap.String("recording", sum.RecordingID),
		zap.String("status", string(sum.Status)), zap.Int64("packets", sum.Packets), zap.Int64("chunks", sum.Chunks))
	writeJSON(w, http.StatusOK, sum)
}

func (g *Gateway) pauseSession(paused bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := g.media.Pause(r.PathValue("id"), paused)
		if errors.Is(err, media.ErrNotFound) {
			writeError(w, http.StatusNotFound, "no such session", nil)
			return
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("cannot set pause %v", paused), err)
			return
		}
		writeJSON(w, http.StatusOK, sessionView(s))
	}
}
