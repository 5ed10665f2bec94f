package srtp

import (
	"crypto/rand"
	"fmt"
)

// Generate returns a fresh Crypto of suite s with tag from crypto/rand:
// the key the session API hands a media server to encrypt with, or the
// gateway's own a=crypto in a SIPREC answer (RFC 4568 §5.1.2: the answer
// keys the answerer's direction, which a recvonly SRS never uses).
func Generate(tag uint32, s Suite) (Crypto, error) {
	if _, ok := profiles[s]; !ok {
		return Crypto{}, cryptoErr("suite not supported (want one of %v)", Suites)
	}
	kl, sl := s.keyLens()
	key := make([]byte, kl+sl)
	if _, err := rand.Read(key); err != nil {
		return Crypto{}, fmt.Errorf("srtp: key generation: %w", err)
	}
	return Crypto{Tag: tag, Suite: s, Key: key}, nil
}
