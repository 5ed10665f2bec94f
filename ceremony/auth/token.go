package auth

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mediaseal/mediaseal/ceremony/store"
)

// Claims are the claims of an access token: the registered ones plus the
// granted scopes (space-separated as in RFC 9068) and the principal kind.
type Claims struct {
	jwt.RegisteredClaims
	Scope string `json:"scope"`
	Kind  string `json:"kind"`
}

// Scopes returns the granted scopes.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// maxTokenBytes bounds what the parser looks at.
const maxTokenBytes = 8 << 10

// issue signs claims for p.
func (s *Service) issue(p store.Principal, scopes []string, life time.Duration) (string, *Claims, error) {
	now := s.now().UTC().Truncate(time.Second)
	c := &Claims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer: s.cfg.Issuer, Subject: p.ID, Audience: jwt.ClaimStrings{s.cfg.Audience},
		ExpiresAt: jwt.NewNumericDate(now.Add(life)), IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
		ID: store.NewID(),
	}, Scope: strings.Join(scopes, " "), Kind: p.Kind}
	kid, priv := s.keys.signer()
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = kid
	signed, err := t.SignedString(priv)
	if err != nil {
		return "", nil, fmt.Errorf("auth: sign token: %w", err)
	}
	return signed, c, nil
}

// ParseToken verifies a token's signature (EdDSA only, by a known kid),
// issuer, audience, expiry (required), issue time and not-before, and
// returns its claims. It does not look at revocation (see Authenticate).
func (s *Service) ParseToken(ctx context.Context, token string) (*Claims, error) {
	if len(token) > maxTokenBytes {
		return nil, fmt.Errorf("%w: token of %d bytes", ErrInvalidToken, len(token))
	}
	c := &Claims{}
	_, err := jwt.ParseWithClaims(token, c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		pub, ok := s.keys.public(ctx, kid)
		if !ok {
			return nil, fmt.Errorf("unknown signing key %q", kid)
		}
		return ed25519.PublicKey(pub), nil
	}, jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}), jwt.WithIssuer(s.cfg.Issuer),
		jwt.WithAudience(s.cfg.Audience), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithLeeway(s.cfg.Leeway), jwt.WithTimeFunc(s.now), jwt.WithStrictDecoding())
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidToken, tokenReason(err))
	}
	if c.Subject == "" || c.ID == "" {
		return nil, fmt.Errorf("%w: token without sub or jti", ErrInvalidToken)
	}
	if c.IssuedAt != nil && c.ExpiresAt.Sub(c.IssuedAt.Time) > s.cfg.MaxLifetime+s.cfg.Leeway {
		return nil, fmt.Errorf("%w: lifetime over %s", ErrInvalidToken, s.cfg.MaxLifetime)
	}
	return c, nil
}

// tokenReason says in a few words why a token was refused (no token
// content is echoed).
func tokenReason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "signature does not verify"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token not valid yet"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "required claim missing"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "unverifiable token (algorithm or key)"
	}
	return "invalid token"
}
