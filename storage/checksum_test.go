package storage_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/storage"
)

func TestParseSHA256(t *testing.T) {
	sum := sha256.Sum256([]byte("x"))
	h := hex.EncodeToString(sum[:])
	for _, s := range []string{h, strings.ToUpper(h)} {
		if b, err := storage.ParseSHA256(s); err != nil || !bytes.Equal(b, sum[:]) {
			t.Errorf("%s: %x %v", s, b, err)
		}
	}
	if b, err := storage.ParseSHA256(""); b != nil || err != nil {
		t.Errorf("empty: %x %v", b, err)
	}
	for _, s := range []string{h[:62], h + "00", "zz" + h[2:], " " + h, h[:63]} {
		if _, err := storage.ParseSHA256(s); !errors.Is(err, storage.ErrChecksum) {
			t.Errorf("%q: %v", s, err)
		}
	}
}
