package audiohook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Headers of the upgrade request.
const (
	HeaderAPIKey         = "X-API-KEY"
	HeaderOrganizationID = "Audiohook-Organization-Id"
	HeaderSessionID      = "Audiohook-Session-Id"
	HeaderCorrelationID  = "Audiohook-Correlation-Id"
	HeaderSignatureInput = "Signature-Input"
	HeaderSignature      = "Signature"
)

// Covered are the components every upgrade signature must cover: the
// target and authority (so a signature cannot be replayed elsewhere), the
// session headers and the API key.
var Covered = []string{"@request-target", "@authority", "audiohook-organization-id", "audiohook-session-id",
	"audiohook-correlation-id", "x-api-key"}

// Integration is one AudioHook integration configured on the platform's
// side: its API key and client secret.
type Integration struct {
	// Name identifies the integration in logs and metrics (never the key).
	Name   string
	APIKey string
	// Secret is the client secret's bytes (the platform shows it base64).
	Secret []byte
	// OrganizationID, when set, is the only organisation it may stream.
	OrganizationID string
}

// Reasons of a refused signature (metrics, logs; never the secret).
const (
	RefusedMissing   = "missing"
	RefusedMalformed = "malformed"
	RefusedUnknown   = "unknown_key"
	RefusedStale     = "stale"
	RefusedReplay    = "replayed_nonce"
	RefusedBad       = "bad_signature"
	RefusedOrg       = "organization"
	// RefusedUnavailable: the integrations could not be read (fail closed).
	RefusedUnavailable = "unavailable"
)

// SigError is a refused upgrade signature.
type SigError struct {
	Reason string
	Err    error
}

func (e *SigError) Error() string { return "audiohook signature: " + e.Reason + ": " + e.Err.Error() }

func refuse(reason, format string, args ...any) error {
	return &SigError{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// Source finds integrations kept elsewhere (the control plane's) and
// hears of every refused upgrade (the audit log).
type Source interface {
	// Lookup returns the active integration of apiKey; found false when
	// there is none. An error is a refusal (fail closed).
	Lookup(ctx context.Context, apiKey string) (ig Integration, found bool, err error)
	// Refused records a refused upgrade: the reason, the API key it named
	// (not a secret) and the request.
	Refused(ctx context.Context, reason, apiKey string, r *http.Request)
}

// Verifier checks upgrade signatures against the configured integrations
// and remembers nonces until their signature expires, so a captured
// upgrade cannot be replayed.
type Verifier struct {
	Integrations []Integration
	// Source, when set, is asked for API keys Integrations does not hold.
	Source Source
	// MaxSkew is the clock difference allowed on created and expires.
	MaxSkew time.Duration
	// MaxAge bounds a signature's life (expires - created, or created's
	// age when expires is absent).
	MaxAge time.Duration
	Now    func() time.Time

	mu     sync.Mutex
	nonces map[string]time.Time
}

// maxNonces bounds the remembered nonces; past it new upgrades are
// refused until old ones expire (a flood of valid signatures needs the
// secret).
const maxNonces = 1 << 16

// Verify authenticates r and returns its integration.
func (v *Verifier) Verify(r *http.Request) (Integration, error) {
	key := r.Header.Get(HeaderAPIKey)
	in, sig := r.Header.Get(HeaderSignatureInput), r.Header.Get(HeaderSignature)
	if key == "" || in == "" || sig == "" {
		return Integration{}, refuse(RefusedMissing, "X-API-KEY, Signature-Input and Signature are required")
	}
	si, err := ParseSigInput(in)
	if err != nil {
		return Integration{}, refuse(RefusedMalformed, "%v", err)
	}
	mac, err := parseSignature(sig, si.Label)
	if err != nil {
		return Integration{}, refuse(RefusedMalformed, "%v", err)
	}
	for _, c := range Covered {
		if !slices.Contains(si.Components, c) {
			return Integration{}, refuse(RefusedMalformed, "the signature does not cover %s", c)
		}
	}
	if si.Alg != "" && si.Alg != "hmac-sha256" {
		return Integration{}, refuse(RefusedMalformed, "alg %q (want hmac-sha256)", si.Alg)
	}
	if si.Nonce == "" {
		return Integration{}, refuse(RefusedMalformed, "the signature has no nonce")
	}
	ig, ok := v.integration(key)
	if !ok && v.Source != nil {
		var err error
		if ig, ok, err = v.Source.Lookup(r.Context(), key); err != nil {
			return Integration{}, refuse(RefusedUnavailable, "integrations cannot be read now: %v", err)
		}
	}
	if !ok || subtle.ConstantTimeCompare([]byte(si.KeyID), []byte(key)) != 1 {
		return Integration{}, refuse(RefusedUnknown, "keyid and X-API-KEY name no configured integration")
	}
	now := v.Now()
	created := time.Unix(si.Created, 0)
	expires := created.Add(v.MaxAge)
	if si.Expires != 0 {
		expires = time.Unix(si.Expires, 0)
	}
	switch {
	case created.After(now.Add(v.MaxSkew)):
		return Integration{}, refuse(RefusedStale, "created is in the future")
	case !expires.After(now.Add(-v.MaxSkew)):
		return Integration{}, refuse(RefusedStale, "the signature expired")
	case expires.Sub(created) > v.MaxAge || now.Sub(created) > v.MaxAge+v.MaxSkew:
		return Integration{}, refuse(RefusedStale, "the signature lives longer than %s", v.MaxAge)
	}
	base, err := signatureBase(r, si)
	if err != nil {
		return Integration{}, refuse(RefusedMalformed, "%v", err)
	}
	h := hmac.New(sha256.New, ig.Secret)
	h.Write([]byte(base))
	if !hmac.Equal(h.Sum(nil), mac) {
		return Integration{}, refuse(RefusedBad, "the signature does not verify")
	}
	if ig.OrganizationID != "" && r.Header.Get(HeaderOrganizationID) != ig.OrganizationID {
		return Integration{}, refuse(RefusedOrg, "organization %q is not the integration's", r.Header.Get(HeaderOrganizationID))
	}
	// The nonce is spent only by a signature that verified: an attacker
	// cannot burn a client's nonces with forgeries.
	if !v.spend(ig.Name+"\x00"+si.Nonce, expires.Add(v.MaxSkew), now) {
		return Integration{}, refuse(RefusedReplay, "nonce already used")
	}
	return ig, nil
}

// integration finds the API key's integration, comparing every key in
// constant time.
func (v *Verifier) integration(key string) (Integration, bool) {
	var found Integration
	ok := false
	for _, ig := range v.Integrations {
		if subtle.ConstantTimeCompare([]byte(ig.APIKey), []byte(key)) == 1 {
			found, ok = ig, true
		}
	}
	return found, ok
}

func (v *Verifier) spend(nonce string, until, now time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.nonces == nil {
		v.nonces = map[string]time.Time{}
	}
	if _, seen := v.nonces[nonce]; seen {
		return false
	}
	if len(v.nonces) >= maxNonces {
		for n, exp := range v.nonces {
			if exp.Before(now) {
				delete(v.nonces, n)
			}
		}
		if len(v.nonces) >= maxNonces {
			return false
		}
	}
	v.nonces[nonce] = until
	return true
}

// parseSignature reads "label=:base64:" for the Signature-Input's label.
func parseSignature(h, label string) ([]byte, error) {
	l, v, ok := strings.Cut(strings.TrimSpace(h), "=")
	if !ok || l != label || len(v) < 2 || v[0] != ':' || v[len(v)-1] != ':' {
		return nil, errors.New("signature must be one member label=:base64: matching signature-input")
	}
	b, err := base64.StdEncoding.DecodeString(v[1 : len(v)-1])
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("signature is not a base64 HMAC-SHA256")
	}
	return b, nil
}

// signatureBase builds the RFC 9421 signature base of r for si: one line
// per covered component, then "@signature-params".
func signatureBase(r *http.Request, si SigInput) (string, error) {
	var b strings.Builder
	seen := map[string]bool{}
	for _, c := range si.Components {
		if seen[c] {
			return "", fmt.Errorf("component %q twice", c)
		}
		seen[c] = true
		var val string
		switch c {
		case "@request-target":
			val = r.URL.RequestURI()
		case "@authority":
			val = strings.ToLower(r.Host)
		case "@method":
			val = r.Method
		case "@path":
			val = r.URL.EscapedPath()
		default:
			if strings.HasPrefix(c, "@") || c != strings.ToLower(c) || c == "signature" || c == "signature-input" {
				return "", fmt.Errorf("component %q not supported", c)
			}
			vals := r.Header.Values(c)
			if len(vals) == 0 {
				return "", fmt.Errorf("header %s is covered but absent", c)
			}
			for i := range vals {
				vals[i] = strings.TrimSpace(vals[i])
			}
			val = strings.Join(vals, ", ")
		}
		fmt.Fprintf(&b, "%q: %s\n", c, val)
	}
	fmt.Fprintf(&b, "\"@signature-params\": %s", si.Params())
	return b.String(), nil
}

// Sign sets the signature headers of an upgrade request as an AudioHook
// client does (tests, the bench): it covers Covered, with a fresh nonce.
func Sign(r *http.Request, ig Integration, nonce string, created time.Time, life time.Duration) {
	r.Header.Set(HeaderAPIKey, ig.APIKey)
	si := SigInput{Label: "sig1", Components: Covered, KeyID: ig.APIKey, Nonce: nonce, Alg: "hmac-sha256",
		Created: created.Unix(), Expires: created.Add(life).Unix(), order: []string{"keyid", "nonce", "alg", "created", "expires"}}
	base, _ := signatureBase(r, si)
	h := hmac.New(sha256.New, ig.Secret)
	h.Write([]byte(base))
	r.Header.Set(HeaderSignatureInput, si.Label+"="+si.Params())
	r.Header.Set(HeaderSignature, si.Label+"=:"+base64.StdEncoding.EncodeToString(h.Sum(nil))+":")
}
