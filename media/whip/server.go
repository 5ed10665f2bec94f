package whip

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/mediaseal/mediaseal/storage"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/media"
)

// Server is the WHIP endpoint. It holds the live WHIP sessions; every one
// of them is also a media session of the manager.
type Server struct {
	cfg Config
	api *webrtc.API
	m   *media.Manager
	lim *rate.Limiter
	log *zap.SugaredLogger

	mu      sync.Mutex
	res     map[string]*resource // by resource id (the session URL's last segment)
	byUfrag map[string]*resource // by the client's current ICE ufrag
	closed  bool
	wg      sync.WaitGroup // one watcher per resource
}

// New returns a WHIP server recording into m.
func New(m *media.Manager, cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	api, err := newAPI(&cfg)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, api: api, m: m, lim: rate.NewLimiter(cfg.PostRate, cfg.PostBurst),
		log: cfg.Logger.Sugar(), res: map[string]*resource{}, byUfrag: map[string]*resource{}}, nil
}

// Register mounts the endpoint at prefix (e.g. "/whip") and the session
// URLs under it. auth wraps every handler except OPTIONS (a CORS
// preflight carries no credentials).
func (s *Server) Register(mux httpx.Router, prefix string, auth func(http.HandlerFunc) http.HandlerFunc) {
	mux.HandleFunc("OPTIONS "+prefix, s.cors(s.options(true)))
	mux.HandleFunc("POST "+prefix, s.cors(auth(s.post(prefix))))
	mux.HandleFunc("OPTIONS "+prefix+"/{id}", s.cors(s.options(false)))
	mux.HandleFunc("PATCH "+prefix+"/{id}", s.cors(auth(s.patch)))
	mux.HandleFunc("DELETE "+prefix+"/{id}", s.cors(auth(s.delete)))
}

// Len returns the number of live WHIP sessions.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.res)
}

// Close refuses new sessions, ends every live one (finalising its
// recording) and waits for their goroutines. Idempotent.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	live := make([]*resource, 0, len(s.res))
	for _, r := range s.res {
		live = append(live, r)
	}
	s.mu.Unlock()
	var errs []error
	for _, r := range live {
		if _, err := r.terminate(ctx, "shutdown"); err != nil {
			errs = append(errs, err)
		}
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

// writeError writes the one error body (httpx.Error); detail, when
// given, ends the message.
func writeError(w http.ResponseWriter, status int, code, msg string, detail error) {
	if detail != nil {
		msg += ": " + detail.Error()
	}
	httpx.WriteError(w, &httpx.Error{Status: status, Code: code, Message: msg})
}

func (s *Server) retryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second))))
}

// hasType reports whether the request's Content-Type is want.
func hasType(r *http.Request, want string) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && strings.EqualFold(mt, want)
}

// readBody reads at most MaxBody bytes, answering 413 beyond.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, httpx.CodeBodyTooLarge, "request body too large", err)
		} else {
			writeError(w, http.StatusBadRequest, httpx.CodeBadRequest, "cannot read body", err)
		}
		return nil, false
	}
	return b, true
}

func newToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("whip: crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	return hex.EncodeToString(b)
}

func newETag() string { return `"` + newToken(12) + `"` }

// iceLinks renders the configured ICE servers as RFC 9725 §4.6 Link
// header values.
func (s *Server) iceLinks() []string {
	var out []string
	for _, srv := range s.cfg.ICEServers {
		for _, u := range srv.URLs {
			l := fmt.Sprintf(`<%s>; rel="ice-server"`, u)
			if srv.Username != "" || srv.Credential != "" {
				l += fmt.Sprintf(`; username="%s"; credential="%s"; credential-type="password"`, srv.Username, srv.Credential)
			}
			out = append(out, l)
		}
	}
	return out
}

func (s *Server) lookup(id string) (*resource, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.res[id]
	return r, ok
}

func (s *Server) post(prefix string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.lim.Allow() {
			s.retryAfter(w, time.Second)
			writeError(w, http.StatusTooManyRequests, httpx.CodeTooManyRequests, "too many WHIP requests", nil)
			return
		}
		if !hasType(r, contentTypeSDP) {
			w.Header().Set("Accept-Post", contentTypeSDP)
			writeError(w, http.StatusUnsupportedMediaType, httpx.CodeUnsupportedMedia, "Content-Type must be application/sdp", nil)
			return
		}
		if n := s.Len(); n >= s.cfg.MaxSessions {
			s.retryAfter(w, s.cfg.RetryAfter)
			writeError(w, http.StatusServiceUnavailable, CodeCapacity, "gateway at capacity", fmt.Errorf("%d WHIP sessions", n))
			return
		}
		body, ok := s.readBody(w, r)
		if !ok {
			return
		}
		meta, err := ParseMeta(r)
		if err != nil {
			writeError(w, http.StatusBadRequest, CodeInvalidMetadata, "invalid call metadata", err)
			return
		}
		info, err := analyzeOffer(body)
		if err != nil {
			writeError(w, http.StatusBadRequest, CodeInvalidOffer, "invalid SDP offer", err)
			return
		}
		res, answer, err := s.open(r.Context(), meta, info, body)
		var dup *duplicateError
		switch {
		case errors.As(err, &dup):
			w.Header().Set("Location", prefix+"/"+dup.id)
			writeError(w, http.StatusConflict, httpx.CodeConflict, "offer already in use by a live WHIP session", err)
			return
		case errors.Is(err, ErrBadOffer):
			writeError(w, http.StatusBadRequest, CodeInvalidOffer, "invalid SDP offer", err)
			return
		case errors.Is(err, media.ErrBadRequest):
			writeError(w, http.StatusBadRequest, CodeInvalidSession, "invalid session", err)
			return
		case errors.Is(err, storage.ErrSpoolFull), errors.Is(err, storage.ErrSpoolUnwritable):
			s.retryAfter(w, s.cfg.RetryAfter)
			writeError(w, http.StatusServiceUnavailable, CodeSpool, "recording spool cannot take the call; retry later", err)
			return
		case media.IsCapacity(err) || errors.Is(err, media.ErrClosed) || errors.Is(err, errClosed):
			s.retryAfter(w, s.cfg.RetryAfter)
			writeError(w, http.StatusServiceUnavailable, CodeCapacity, "gateway at capacity", err)
			return
		case err != nil:
			s.log.Errorw("WHIP session setup failed", "error", err)
			writeError(w, http.StatusInternalServerError, httpx.CodeInternal, "cannot create WHIP session", nil)
			return
		}
		s.log.Infow("WHIP session created", "session", res.sess.ID, "recording", res.sess.RecordingID,
			"call", meta.CallID, "queue", meta.QueueID, "recorded", res.sess.Recorded(), "tracks", len(res.sess.Tracks))
		h := w.Header()
		h.Set("Content-Type", contentTypeSDP)
		h.Set("Location", prefix+"/"+res.id)
		h.Set("ETag", res.currentETag())
		h.Set("Accept-Patch", contentTypeSDPFrag)
		h.Set(headerPrefix+"Session-Id", res.sess.ID)
		h.Set(headerPrefix+"Recorded", strconv.FormatBool(res.sess.Recorded()))
		for _, l := range s.iceLinks() {
			h.Add("Link", l)
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, answer)
	}
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	res, ok := s.lookup(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, httpx.CodeNotFound, "no such WHIP session", nil)
		return
	}
	sum, err := res.terminate(r.Context(), "whip-delete")
	if err != nil {
		writeError(w, http.StatusInternalServerError, httpx.CodeInternal, "cannot end session", err)
		return
	}
	s.log.Infow("WHIP session ended", "session", sum.SessionID, "recording", sum.RecordingID,
		"status", sum.Status, "packets", sum.Packets)
	httpx.WriteJSON(w, http.StatusOK, sum)
}

// etagMatches implements If-Match for one strong entity tag.
func etagMatches(ifMatch, etag string) bool {
	for _, t := range strings.Split(ifMatch, ",") {
		if strings.TrimSpace(t) == etag {
			return true
		}
	}
	return false
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request) {
	res, ok := s.lookup(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, httpx.CodeNotFound, "no such WHIP session", nil)
		return
	}
	if !hasType(r, contentTypeSDPFrag) {
		w.Header().Set("Accept-Patch", contentTypeSDPFrag)
		writeError(w, http.StatusUnsupportedMediaType, httpx.CodeUnsupportedMedia, "Content-Type must be application/trickle-ice-sdpfrag", nil)
		return
	}
	ifMatch := strings.TrimSpace(r.Header.Get("If-Match"))
	if ifMatch == "" {
		writeError(w, http.StatusPreconditionRequired, httpx.CodePreconditionNeeded, "If-Match is required", nil)
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	frag, err := ParseFrag(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeInvalidFragment, "invalid SDP fragment", err)
		return
	}
	res.patchMu.Lock()
	defer res.patchMu.Unlock()
	if ifMatch == "*" {
		s.restart(w, r, res, frag)
		return
	}
	if !etagMatches(ifMatch, res.currentETag()) {
		w.Header().Set("ETag", res.currentETag())
		writeError(w, http.StatusPreconditionFailed, httpx.CodePreconditionFailed, "stale ETag", fmt.Errorf("If-Match %s, current %s", ifMatch, res.currentETag()))
		return
	}
	if frag.Ufrag != "" && frag.Ufrag != res.remoteUfrag {
		writeError(w, http.StatusUnprocessableEntity, CodeICERestartRequired, "new ICE credentials need an ICE restart (If-Match: *)", nil)
		return
	}
	if err := res.addCandidates(frag); err != nil {
		writeError(w, http.StatusUnprocessableEntity, CodeCandidateNotUsable, "candidate not usable", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) restart(w http.ResponseWriter, r *http.Request, res *resource, frag Frag) {
	if frag.Ufrag == "" || frag.Ufrag == res.remoteUfrag {
		writeError(w, http.StatusUnprocessableEntity, CodeICERestartRequired, "If-Match: * is for an ICE restart: the fragment must carry new ice-ufrag and ice-pwd", nil)
		return
	}
	s.mu.Lock()
	if other := s.byUfrag[frag.Ufrag]; other != nil {
		s.mu.Unlock()
		writeError(w, http.StatusConflict, httpx.CodeConflict, "ICE credentials already in use by a live WHIP session", nil)
		return
	}
	s.mu.Unlock()
	out, err := res.iceRestart(r.Context(), frag)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, CodeICERestartFailed, "ICE restart failed", err)
		return
	}
	s.mu.Lock()
	delete(s.byUfrag, res.oldUfrag)
	s.byUfrag[res.remoteUfrag] = res
	s.mu.Unlock()
	w.Header().Set("Content-Type", contentTypeSDPFrag)
	w.Header().Set("ETag", res.currentETag())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// options answers CORS preflights and RFC 9725 OPTIONS requests.
func (s *Server) options(endpoint bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		methods := "PATCH, DELETE, OPTIONS"
		if endpoint {
			methods = "POST, OPTIONS"
			h.Set("Accept-Post", contentTypeSDP)
		} else {
			h.Set("Accept-Patch", contentTypeSDPFrag)
		}
		h.Set("Allow", methods)
		if r.Header.Get("Access-Control-Request-Method") != "" && h.Get("Access-Control-Allow-Origin") != "" {
			h.Set("Access-Control-Allow-Methods", methods)
			h.Set("Access-Control-Allow-Headers", strings.Join(append([]string{"Authorization", "Content-Type", "If-Match"}, MetaHeaders()...), ", "))
			h.Set("Access-Control-Max-Age", "600")
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// cors adds the CORS response headers for allowed origins.
func (s *Server) cors(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			for _, o := range s.cfg.AllowOrigins {
				if o == "*" || strings.EqualFold(o, origin) {
					hd := w.Header()
					hd.Set("Access-Control-Allow-Origin", map[bool]string{true: "*", false: origin}[o == "*"])
					hd.Add("Vary", "Origin")
					hd.Set("Access-Control-Expose-Headers", "Location, ETag, Link, Retry-After, Accept-Patch, Accept-Post, WWW-Authenticate, "+
						headerPrefix+"Session-Id, "+headerPrefix+"Recorded")
					break
				}
			}
		}
		h(w, r)
	}
}
