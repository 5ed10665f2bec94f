package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/mediaseal/mediaseal/ceremony/auth"
)

// IDFile keeps the generated id of a gateway whose config names
// none, so that it survives restarts (hostname-pid did not, and collided
// between containers that all run as pid 1).
const IDFile = "gateway.id"

// idRe is deliberately narrower than other ids: a gateway id ends up in
// file names, log fields and audit targets.
var idRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidID reports whether id may name a gateway.
func ValidID(id string) bool { return idRe.MatchString(id) }

// ResolveID is the configured gateway.id, else the id kept in dataDir,
// else a new random one written there (0600, exclusive).
func ResolveID(configured, dataDir string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	path := filepath.Join(dataDir, IDFile)
	for range 2 {
		b, err := os.ReadFile(path)
		if err == nil {
			id := strings.TrimSpace(string(b))
			if !ValidID(id) {
				return "", fmt.Errorf("gateway id in %s: %q is not a valid gateway.id", path, id)
			}
			return id, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("gateway id: %w", err)
		}
		raw := make([]byte, 8)
		if _, err := rand.Read(raw); err != nil {
			return "", fmt.Errorf("gateway id: %w", err)
		}
		id := "gw-" + hex.EncodeToString(raw)
		if err := auth.WriteFile0600(path, []byte(id+"\n")); errors.Is(err, os.ErrExist) {
			continue // another process of this data dir wrote one first: use it
		} else if err != nil {
			return "", fmt.Errorf("gateway id: %w", err)
		}
		return id, nil
	}
	return "", fmt.Errorf("gateway id: %s appeared and vanished", path)
}
