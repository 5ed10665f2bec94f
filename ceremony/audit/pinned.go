package audit

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
)

// ReadPinnedKeys reads "kid=base64(Ed25519 public key)" lines (what
// `mediaseal audit keys export` writes): the checkpoint keys an auditor
// trusts, which replace the keys stored with the log, so that a holder of
// the database who adds a key and re-signs a forged chain is caught.
// An empty path is no pinned keys (nil).
func ReadPinnedKeys(path string) (map[string]ed25519.PublicKey, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]ed25519.PublicKey{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		kid, k, ok := strings.Cut(strings.TrimSpace(line), "=")
		pub, err := base64.StdEncoding.DecodeString(k)
		if !ok || err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%s: want kid=base64(Ed25519 public key) per line", path)
		}
		out[kid] = pub
	}
	return out, nil
}
