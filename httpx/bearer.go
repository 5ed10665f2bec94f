package httpx

import (
	"fmt"
	"net/http"
	"strings"
)

// MaxTokenLen bounds a bearer token. Service tokens are signed JWTs of a
// few hundred bytes and bootstrap tokens are shorter; a longer header is
// refused before any parsing, signature check or comparison spends on it.
const MaxTokenLen = 4096

// BearerToken returns the token of the request's one "Authorization:
// Bearer <token>" header (RFC 6750 §2.1). The scheme is matched without
// regard to case (RFC 7235 §2.1). A request with no Authorization header
// or another scheme gets an error wrapping ErrNoToken; a malformed bearer
// header (no token, two Authorization headers, characters outside
// b64token, over MaxTokenLen) one wrapping ErrUnauthenticated.
func BearerToken(r *http.Request) (string, error) {
	hs := r.Header.Values("Authorization")
	switch {
	case len(hs) == 0:
		return "", ErrNoToken
	case len(hs) > 1:
		// A proxy and this server could each read a different one.
		return "", fmt.Errorf("%w: %d Authorization headers", ErrUnauthenticated, len(hs))
	}
	scheme, tok, _ := strings.Cut(strings.TrimSpace(hs[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", ErrNoToken
	}
	tok = strings.TrimSpace(tok)
	switch {
	case tok == "":
		return "", fmt.Errorf("%w: bearer token is empty", ErrUnauthenticated)
	case len(tok) > MaxTokenLen:
		return "", fmt.Errorf("%w: bearer token longer than %d bytes", ErrUnauthenticated, MaxTokenLen)
	case !isB64Token(tok):
		return "", fmt.Errorf("%w: bearer token has characters outside RFC 6750 b64token", ErrUnauthenticated)
	}
	return tok, nil
}

// isB64Token reports whether s is an RFC 6750 b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}
