package srtp

import (
	"strings"

	pion "github.com/pion/srtp/v3"
)

// Suite is an SRTP crypto suite by its SDES name (RFC 4568 §6.2, RFC 7714 §14.2).
type Suite string

// The suites the gateway receives, in its order of preference when it
// generates a key itself.
const (
	AESCM128SHA1_80 Suite = "AES_CM_128_HMAC_SHA1_80"
	AESCM128SHA1_32 Suite = "AES_CM_128_HMAC_SHA1_32"
	AEADAES128GCM   Suite = "AEAD_AES_128_GCM"
	AEADAES256GCM   Suite = "AEAD_AES_256_GCM"
)

// Suites lists the supported suites, preferred first.
var Suites = []Suite{AESCM128SHA1_80, AEADAES128GCM, AEADAES256GCM, AESCM128SHA1_32}

var profiles = map[Suite]pion.ProtectionProfile{
	AESCM128SHA1_80: pion.ProtectionProfileAes128CmHmacSha1_80,
	AESCM128SHA1_32: pion.ProtectionProfileAes128CmHmacSha1_32,
	AEADAES128GCM:   pion.ProtectionProfileAeadAes128Gcm,
	AEADAES256GCM:   pion.ProtectionProfileAeadAes256Gcm,
}

// ParseSuite maps a suite name (case-insensitive, as some SBCs send it
// lower-case) to a supported Suite.
func ParseSuite(name string) (Suite, bool) {
	s := Suite(strings.ToUpper(name))
	_, ok := profiles[s]
	return s, ok
}

// keyLens returns the master key and master salt lengths of s in bytes.
func (s Suite) keyLens() (key, salt int) {
	p := profiles[s]
	k, _ := p.KeyLen()
	sl, _ := p.SaltLen()
	return k, sl
}
