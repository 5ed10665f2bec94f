package srtp

import (
	"crypto/rand"
	"fmt"

	pion "github.com/pion/srtp/v3"
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

// NewSender is an encrypting context keyed by c: the media server's side
// of a track, for the bench's generator and tests.
func NewSender(c Crypto) (*pion.Context, error) {
	p, ok := profiles[c.Suite]
	if !ok {
		return nil, cryptoErr("suite not supported (want one of %v)", Suites)
	}
	kl, _ := c.Suite.keyLens()
	if len(c.Key) <= kl {
		return nil, cryptoErr("key too short for %s", c.Suite)
	}
	var opts []pion.ContextOption
	if len(c.MKI) > 0 {
		opts = append(opts, pion.MasterKeyIndicator(c.MKI))
	}
	ctx, err := pion.CreateContext(c.Key[:kl], c.Key[kl:], p, opts...)
	if err != nil {
		return nil, fmt.Errorf("srtp: %s sender: %w", c.Suite, err)
	}
	return ctx, nil
}
