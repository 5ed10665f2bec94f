package srtp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func b64(n int, fill byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, n))
}

func TestParseCrypto(t *testing.T) {
	key := b64(30, 7)
	ok := []struct {
		in     string
		suite  Suite
		mki    []byte
		window uint
	}{
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key, AESCM128SHA1_80, nil, 0},
		{"2 AES_CM_128_HMAC_SHA1_32 inline:" + key + "|2^20|1:1", AESCM128SHA1_32, []byte{1}, 0},
		{"3 aes_cm_128_hmac_sha1_80 inline:" + key + "|1048576 KDR=0 WSH=128", AESCM128SHA1_80, nil, 128},
		{"1 AEAD_AES_128_GCM inline:" + b64(28, 1), AEADAES128GCM, nil, 0},
		{"1 AEAD_AES_256_GCM inline:" + b64(44, 1), AEADAES256GCM, nil, 0},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + strings.TrimRight(key, "="), AESCM128SHA1_80, nil, 0},
		{"9 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|258:2", AESCM128SHA1_80, []byte{1, 2}, 0},
	}
	for _, c := range ok {
		got, _, err := ParseCrypto(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got.Suite != c.suite || !bytes.Equal(got.MKI, c.mki) || got.Window != c.window {
			t.Errorf("%q: got %v window %d", c.in, got, got.Window)
		}
		back, _, err := ParseCrypto(got.Attribute())
		if err != nil || !bytes.Equal(back.Key, got.Key) || !bytes.Equal(back.MKI, got.MKI) || back.Tag != got.Tag {
			t.Errorf("%q: Attribute does not round-trip: %v", c.in, err)
		}
	}
	bad := []string{
		"",
		"1 AES_CM_128_HMAC_SHA1_80",
		"x AES_CM_128_HMAC_SHA1_80 inline:" + key,
		"1 F8_128_HMAC_SHA1_80 inline:" + key,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + b64(29, 7),
		"1 AEAD_AES_256_GCM inline:" + b64(28, 7),
		"1 AES_CM_128_HMAC_SHA1_80 uri:" + key,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " UNENCRYPTED_SRTP",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " UNAUTHENTICATED_SRTP",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " KDR=24",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " WSH=10",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " FEC_ORDER=FEC_SRTP",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|256:1",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|1:9",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^99",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + ";inline:" + key,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|1:1;inline:" + key + "|2:2",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + strings.Repeat(" KDR=0", 200),
	}
	for _, in := range bad {
		_, _, err := ParseCrypto(in)
		if !errors.Is(err, ErrCrypto) {
			t.Errorf("%q: err %v, want ErrCrypto", in, err)
		}
	}
}

// TestErrorsHoldNoKey: no error or description of this package carries the
// key (it would reach logs through the SIP or HTTP error path).
func TestErrorsHoldNoKey(t *testing.T) {
	key := b64(30, 0xab)
	for _, in := range []string{
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^99",
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "x",
		"1 AEAD_AES_128_GCM inline:" + key,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " " + key,
		"1 " + key + " inline:" + key,
	} {
		_, _, err := ParseCrypto(in)
		if err == nil {
			t.Fatalf("%q parsed", in)
		}
		if strings.Contains(err.Error(), key[:12]) {
			t.Errorf("error %q holds the key", err)
		}
	}
	c, _ := Generate(1, AESCM128SHA1_80)
	if strings.Contains(c.String(), base64.StdEncoding.EncodeToString(c.Key)[:12]) {
		t.Error("String holds the key")
	}
}

func TestGenerateFresh(t *testing.T) {
	a, _ := Generate(1, AEADAES256GCM)
	b, _ := Generate(1, AEADAES256GCM)
	if len(a.Key) != 44 || bytes.Equal(a.Key, b.Key) {
		t.Fatalf("keys: %d bytes, equal %v", len(a.Key), bytes.Equal(a.Key, b.Key))
	}
	if _, err := Generate(1, "NULL_HMAC_SHA1_80"); err == nil {
		t.Fatal("NULL suite generated")
	}
}
