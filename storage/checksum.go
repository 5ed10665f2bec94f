package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// ParseSHA256 decodes PutOptions.SHA256, a hex SHA-256 in any case, for
// a backend to verify; "" means none was sent (nil, nil). Anything else
// that is not 32 hex-encoded bytes is an error wrapping ErrChecksum.
func ParseSHA256(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("%w: %q is not a hex SHA-256", ErrChecksum, s)
	}
	return b, nil
}
