package api

import (
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/events"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/kms"
)

// Defaults.
const (
	// DefaultMaxBodyBytes caps a request body.
	DefaultMaxBodyBytes = 64 << 10
	// DefaultDescribeTimeout bounds the KMS Describe of a bind handshake.
	DefaultDescribeTimeout = 10 * time.Second
)

// Deps is what the API needs.
type Deps struct {
	Store store.Store
	// KMS are the key providers open on this gateway; a registered key's
	// type finds its provider there.
	KMS kms.Registry
	// OrgRegion is the organisation's region; keys elsewhere are refused.
	// Empty disables the region checks.
	OrgRegion string
	// CallerRegion reads national caller numbers in a search (config
	// org.callerRegion), as the index did when it wrote them.
	CallerRegion string
	Authorizer   Authorizer
	Logger       *zap.Logger
	// MaxBodyBytes caps request bodies (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// DescribeTimeout bounds the bind handshake (default DefaultDescribeTimeout).
	DescribeTimeout time.Duration
	// Ceremony enables approvals, the audit log and playback (ceremony.go).
	Ceremony Ceremony
	// Jobs runs re-encryption jobs and key rotation (reencrypt.go).
	Jobs Jobs
	// PlatformKeyID is the platform keyring key id (config
	// kms.platformKey): the only key a policy may name as the platform key.
	PlatformKeyID string
	// Events is the lifecycle-event outbox (events.go); nil answers 404.
	Events *events.Outbox
	// AudioHook manages the AudioHook integrations (audiohook.go); nil
	// answers 404.
	AudioHook AudioHookAdmin
	// OrgRetentionDays is recording.retentionDays, the retention of
	// policies that set none (the policy gate compares retentions).
	OrgRetentionDays int
	// Retention holds the legal holds and the sweeper's dry run
	// (legalholds.go); nil answers 404.
	Retention Retention
}

// Route is one endpoint with the scope it needs.
type Route struct {
	Method  string
	Pattern string
	Scope   string
	handle  func(w http.ResponseWriter, r *http.Request) error
}

type server struct {
	deps Deps
	log  *zap.Logger
	// policyWrites serialises each policy write's gate and handler: the
	// gate judges a write against the policy set it reads, so two writes
	// that are harmless alone must not interleave into one that is not.
	policyWrites sync.Mutex
}

// Routes lists every endpoint with its scope (for docs and tests).
func Routes() []Route { return (&server{}).routes() }

func (s *server) routes() []Route {
	return append([]Route{
		{"POST", "/api/v2/recordings/policies", ScopePolicyWrite, s.createPolicy},
		{"GET", "/api/v2/recordings/policies", ScopePolicyRead, s.listPolicies},
		{"GET", "/api/v2/recordings/policies/{id}", ScopePolicyRead, s.getPolicy},
		{"PUT", "/api/v2/recordings/policies/{id}", ScopePolicyWrite, s.updatePolicy},
		{"DELETE", "/api/v2/recordings/policies/{id}", ScopePolicyWrite, s.deletePolicy},
		{"GET", "/api/v2/recordings/policies/{id}/versions", ScopePolicyRead, s.listPolicyVersions},
		{"GET", "/api/v2/recordings/policies/{id}/versions/{version}", ScopePolicyRead, s.getPolicyVersion},
		{"POST", "/api/v2/keys", ScopeKeyWrite, s.registerKey},
		{"GET", "/api/v2/keys", ScopeKeyRead, s.listKeys},
		{"GET", "/api/v2/keys/{keyId}", ScopeKeyRead, s.getKey},
		{"POST", "/api/v2/keys/{keyId}", ScopeKeyWrite, s.bindKey},
		{"PUT", "/api/v2/keys/{keyId}/rotation", ScopeKeyWrite, s.updateRotation},
		{"GET", "/api/v2/recordings", ScopeRecordingsRead, s.listRecordings},
		{"GET", "/api/v2/recordings/{id}", ScopeRecordingsRead, s.getRecording},
		{"GET", "/api/v2/gateways", ScopeRecordingsRead, s.listGateways}, // gateways.go
	}, append(append(append(s.ceremonyRoutes(), s.jobRoutes()...), s.quorumRoutes()...), append(append(s.eventRoutes(), s.retentionRoutes()...), s.audioHookRoutes()...)...)...)
}

// New returns the API handler. Deps.Store and Deps.Authorizer are required.
func New(deps Deps) http.Handler {
	if deps.Store == nil || deps.Authorizer == nil {
		panic("api: New needs Deps.Store and Deps.Authorizer")
	}
	if deps.Logger == nil {
		deps.Logger = zap.NewNop()
	}
	if deps.KMS == nil {
		deps.KMS = kms.Registry{}
	}
	if deps.MaxBodyBytes <= 0 {
		deps.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if deps.DescribeTimeout <= 0 {
		deps.DescribeTimeout = DefaultDescribeTimeout
	}
	s := &server{deps: deps, log: deps.Logger}
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, s.authorize(rt))
	}
	return s.jsonFallback(mux)
}

// authorize is the one authorization layer: it asks the Authorizer for the
// route's scope before the handler runs and renders handler errors.
func (s *server) authorize(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.deps.Authorizer.Authorize(r, rt.Scope)
		if err != nil {
			e := httpx.AuthError(w, rt.Scope, err)
			s.log.Info("api: refused", zap.String("method", r.Method), zap.String("path", r.URL.Path),
				zap.String("scope", rt.Scope), zap.Int("status", e.Status), zap.Error(err))
			httpx.WriteError(w, e)
			return
		}
		r = r.WithContext(httpx.ContextWithPrincipal(r.Context(), p))
		if err := s.runGated(rt, w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// writeError renders err: an *Error as is, anything else as a 500 whose
// details stay in the log.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if e := httpx.WriteError(w, err); e.Code == CodeInternal {
		s.log.Error("api: internal error", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
	}
}

// jsonFallback turns the mux's plain-text 404 and 405 into JSON errors.
func (s *server) jsonFallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		rec := &statusOnly{header: http.Header{}}
		mux.ServeHTTP(rec, r)
		if a := rec.header.Get("Allow"); a != "" {
			w.Header().Set("Allow", a)
		}
		if rec.status == http.StatusMethodNotAllowed {
			writeJSON(w, rec.status, errorf(rec.status, CodeMethodNotAllowed, "method %s is not allowed on %s", r.Method, r.URL.Path))
			return
		}
		writeJSON(w, http.StatusNotFound, errorf(http.StatusNotFound, CodeNotFound, "no endpoint %s %s", r.Method, r.URL.Path))
	})
}

// statusOnly records the status and headers the mux would send.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(code int)        { s.status = code }

func writeJSON(w http.ResponseWriter, status int, v any) { httpx.WriteJSON(w, status, v) }
