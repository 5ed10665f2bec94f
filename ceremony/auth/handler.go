package auth

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/httpx/strictjson"
)

// Token endpoint paths.
const (
	PathToken       = "/oauth/token"         // RFC 6749 §4.4, form-encoded
	PathTokenJSON   = "/api/v2/oauth/tokens" // the reference guide's JSON form
	PathRevoke      = "/oauth/revoke"        // RFC 7009, form-encoded
	PathJWKS        = "/oauth/jwks"          // public signing keys
	maxTokenReqBody = 16 << 10
)

// Routes registers the token endpoints on mux.
func (s *Service) Routes(mux httpx.Router) {
	mux.HandleFunc("POST "+PathToken, s.tokenForm)
	mux.HandleFunc("POST "+PathTokenJSON, s.tokenJSON)
	mux.HandleFunc("POST "+PathRevoke, s.revokeForm)
	mux.HandleFunc("GET "+PathJWKS, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, s.JWKS()) })
}

// oauthError is the RFC 6749 §5.2 error body: the token endpoints answer
// OAuth clients, which expect it, so they keep it rather than httpx.Error.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// writeJSON writes a token endpoint's response, which no cache may keep
// (RFC 6749 §5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	httpx.WriteJSON(w, status, v)
}

// writeOAuthError maps an error to RFC 6749 §5.2.
func writeOAuthError(w http.ResponseWriter, err error) {
	status, code := http.StatusBadRequest, "invalid_request"
	switch {
	case errors.Is(err, ErrInvalidClient):
		status, code = http.StatusUnauthorized, "invalid_client"
		w.Header().Set("WWW-Authenticate", `Basic realm="mediaseal"`)
	case errors.Is(err, ErrInvalidScope):
		code = "invalid_scope"
	case errors.Is(err, ErrUnsupportedGrant):
		code = "unsupported_grant_type"
	case errors.Is(err, ErrInvalidRequest):
	default:
		status, code = http.StatusInternalServerError, "server_error"
		err = errors.New("internal error")
	}
	writeJSON(w, status, oauthError{Error: code, Description: err.Error()})
}

// clientCredentials reads HTTP Basic client authentication (RFC 6749
// §2.3.1: the id and secret are form-urlencoded before Basic encoding).
func clientCredentials(r *http.Request) (id, secret string, ok bool) {
	u, p, ok := r.BasicAuth()
	if !ok {
		return "", "", false
	}
	return formUnescape(u), formUnescape(p), true
}

func formUnescape(s string) string {
	v, err := urlQueryUnescape(s)
	if err != nil {
		return s
	}
	return v
}

func (s *Service) tokenForm(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		writeOAuthError(w, errors.Join(ErrInvalidRequest, errors.New("Content-Type must be application/x-www-form-urlencoded")))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenReqBody)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, errors.Join(ErrInvalidRequest, err))
		return
	}
	f := r.PostForm
	for k, v := range f {
		if len(v) > 1 { // RFC 6749 §3.2: parameters must not repeat
			writeOAuthError(w, errors.Join(ErrInvalidRequest, errors.New("parameter "+k+" repeated")))
			return
		}
	}
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		writeOAuthError(w, errors.Join(ErrUnsupportedGrant, errors.New("grant_type must be client_credentials (got "+quote(gt)+")")))
		return
	}
	req := TokenRequest{Scopes: strings.Fields(f.Get("scope"))}
	id, secret, basic := clientCredentials(r)
	if basic && (f.Has("client_id") || f.Has("client_secret")) {
		writeOAuthError(w, errors.Join(ErrInvalidRequest, errors.New("use one client authentication method")))
		return
	}
	if !basic {
		id, secret = f.Get("client_id"), f.Get("client_secret")
	}
	req.ClientID, req.ClientSecret, req.Source = id, secret, sourceOf(r)
	t, err := s.Issue(r.Context(), req)
	if err != nil {
		writeOAuthError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": t.AccessToken, "token_type": "Bearer",
		"expires_in": int64(t.ExpiresIn / time.Second), "scope": strings.Join(t.Scopes, " ")})
}

// jsonTokenRequest is the reference guide's POST /api/v2/oauth/tokens
// payload; the client authenticates with HTTP Basic or clientSecret.
type jsonTokenRequest struct {
	GrantType         string   `json:"grantType"`
	Scopes            []string `json:"scopes"`
	ApplicationID     string   `json:"applicationId"`
	ExpirationSeconds int64    `json:"expirationSeconds"`
	ClientSecret      string   `json:"clientSecret"`
}

func (s *Service) tokenJSON(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeOAuthError(w, errors.Join(ErrInvalidRequest, errors.New("Content-Type must be application/json")))
		return
	}
	// The API's strict reader: duplicate or case-variant keys, unknown
	// fields, invalid UTF-8 and trailing data are invalid_request.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTokenReqBody))
	var req jsonTokenRequest
	if err == nil {
		err = strictjson.Unmarshal(body, &req)
	}
	if err != nil {
		writeOAuthError(w, errors.Join(ErrInvalidRequest, err))
		return
	}
	if req.GrantType != "client_credentials" {
		writeOAuthError(w, errors.Join(ErrUnsupportedGrant, errors.New("grantType must be client_credentials (got "+quote(req.GrantType)+")")))
		return
	}
	if req.ExpirationSeconds < 0 {
		writeOAuthError(w, errors.Join(ErrInvalidRequest, errors.New("expirationSeconds must not be negative")))
		return
	}
	id, secret, basic := clientCredentials(r)
	switch {
	case basic && req.ClientSecret != "":
		writeOAuthError(w, errors.Join(ErrInvalidRequest, errors.New("use one client authentication method")))
		return
	case basic && req.ApplicationID != "" && req.ApplicationID != id:
		writeOAuthError(w, errors.Join(ErrInvalidRequest, errors.New("applicationId differs from the authenticated client")))
		return
	case !basic:
		id, secret = req.ApplicationID, req.ClientSecret
	}
	t, err := s.Issue(r.Context(), TokenRequest{ClientID: id, ClientSecret: secret, Scopes: req.Scopes, Source: sourceOf(r),
		Lifetime: time.Duration(min(req.ExpirationSeconds, 1<<31)) * time.Second})
	if err != nil {
		writeOAuthError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"accessToken": t.AccessToken, "tokenType": "Bearer",
		"expiresIn": int64(t.ExpiresIn / time.Second), "scopes": t.Scopes, "jti": t.JTI, "applicationId": id})
}

// revokeForm is RFC 7009: the client authenticates and revokes one of its
// own tokens; unknown or invalid tokens are answered 200 as the RFC says.
func (s *Service) revokeForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenReqBody)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, errors.Join(ErrInvalidRequest, err))
		return
	}
	id, secret, basic := clientCredentials(r)
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if err := s.authenticateClient(r, id, secret); err != nil {
		writeOAuthError(w, err)
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		writeOAuthError(w, errors.Join(ErrInvalidRequest, errors.New("token is required")))
		return
	}
	if err := s.Revoke(r.Context(), id, tok); err != nil && !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrForbidden) {
		writeOAuthError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	b, _ := json.Marshal(s)
	return string(b)
}
