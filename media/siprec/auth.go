package siprec

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// nonceLifetime bounds how long a digest challenge may be answered.
const nonceLifetime = 5 * time.Minute

// allowed reports whether the request's source is in the allow-list
// (an empty list admits every source).
func (s *Server) allowed(req *sip.Request) bool {
	if len(s.cfg.AllowFrom) == 0 {
		return true
	}
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return false
	}
	for _, p := range s.cfg.AllowFrom {
		if p.Contains(ap.Addr().Unmap()) {
			return true
		}
	}
	return false
}

// newNonce is stateless: issue time and an HMAC of it under a per-process
// key, so any listener can verify it without remembering challenges.
func (s *Server) newNonce(now time.Time) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.Unix()))
	m := hmac.New(sha256.New, s.nonceKey[:])
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Server) nonceValid(n string, now time.Time) bool {
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(b) != 24 {
		return false
	}
	m := hmac.New(sha256.New, s.nonceKey[:])
	m.Write(b[:8])
	if !hmac.Equal(m.Sum(nil)[:16], b[8:]) {
		return false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	return now.Sub(issued) >= -time.Minute && now.Sub(issued) <= nonceLifetime
}

func (s *Server) challenge(stale bool) *digest.Challenge {
	return &digest.Challenge{Realm: s.cfg.Realm, Nonce: s.newNonce(time.Now()), Algorithm: "MD5",
		QOP: []string{"auth"}, Stale: stale}
}

// authenticate checks digest credentials (RFC 3261 §22.4) when users are
// configured. It returns the authenticated user, or the challenge to
// send in a 401 when the request is not authenticated.
func (s *Server) authenticate(req *sip.Request) (string, *digest.Challenge) {
	if len(s.cfg.Users) == 0 {
		return "", nil
	}
	h := req.GetHeader("Authorization")
	if h == nil {
		return "", s.challenge(false)
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil || cred.Realm != s.cfg.Realm {
		return "", s.challenge(false)
	}
	if !s.nonceValid(cred.Nonce, time.Now()) {
		return "", s.challenge(true)
	}
	pass, ok := s.cfg.Users[cred.Username]
	if !ok {
		pass = "\x00unknown-user" // same work as a known user: no user enumeration by timing
	}
	chal := &digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm, Opaque: cred.Opaque}
	if cred.QOP != "" {
		chal.QOP = []string{cred.QOP}
	}
	if !strings.EqualFold(cred.Algorithm, "MD5") && cred.Algorithm != "" && !strings.EqualFold(cred.Algorithm, "SHA-256") {
		return "", s.challenge(false)
	}
	want, err := digest.Digest(chal, digest.Options{Method: string(req.Method), URI: cred.URI, Username: cred.Username,
		Password: pass, Cnonce: cred.Cnonce, Count: cred.Nc})
	if err != nil || !ok || subtle.ConstantTimeCompare([]byte(want.Response), []byte(cred.Response)) != 1 {
		return "", s.challenge(false)
	}
	return cred.Username, nil
}
