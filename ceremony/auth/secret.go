package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// secretScheme prefixes stored hashes so the scheme can change later.
const secretScheme = "hmac-sha256"

// NewSecret returns a fresh client secret: 32 random bytes, base64url.
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: cannot read random source: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// secretHasher hashes client secrets with a server pepper.
type secretHasher struct {
	kid    string
	pepper []byte
}

func (h secretHasher) mac(clientID, secret string) []byte {
	m := hmac.New(sha256.New, h.pepper)
	m.Write([]byte(clientID))
	m.Write([]byte{0})
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// hash encodes the stored form: scheme$pepper-kid$hex.
func (h secretHasher) hash(clientID, secret string) string {
	return secretScheme + "$" + h.kid + "$" + hex.EncodeToString(h.mac(clientID, secret))
}

// verify compares secret with the stored form in constant time (for a
// given stored form: the comparison never depends on where bytes differ).
func (h secretHasher) verify(clientID, secret, stored string) bool {
	parts := strings.Split(stored, "$")
	if len(parts) != 3 || parts[0] != secretScheme || parts[1] != h.kid {
		return false
	}
	want, err := hex.DecodeString(parts[2])
	if err != nil {
		return false
	}
	return hmac.Equal(h.mac(clientID, secret), want)
}
