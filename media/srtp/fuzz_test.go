package srtp

import (
	"bytes"
	"testing"
)

// FuzzParseCrypto: any attribute value parses or is refused with
// ErrCrypto, never panics; what parses renders back to the same key, and
// keys a receiver.
func FuzzParseCrypto(f *testing.F) {
	key := b64(30, 7)
	for _, s := range []string{
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key,
		"2 AES_CM_128_HMAC_SHA1_32 inline:" + key + "|2^20|1:4;inline:" + key + "|2:4 WSH=256",
		"1 AEAD_AES_256_GCM inline:" + b64(44, 1) + " KDR=0",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " UNENCRYPTED_SRTCP",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, more, err := ParseCrypto(in)
		if err != nil {
			return
		}
		back, _, err := ParseCrypto(c.Attribute())
		if err != nil || !bytes.Equal(back.Key, c.Key) || !bytes.Equal(back.MKI, c.MKI) {
			t.Fatalf("%q: does not round-trip: %v", in, err)
		}
		if _, err := NewReceiver(c, more...); err != nil && len(more) == 0 {
			t.Fatalf("%q parsed but keys no receiver: %v", in, err)
		}
	})
}
