package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mediaseal/mediaseal/ceremony/auth"
	"github.com/mediaseal/mediaseal/internal/config"
)

// gatewayIDFile keeps the generated id of a gateway whose config names
// none, so that it survives restarts (hostname-pid did not, and collided
// between containers that all run as pid 1).
const gatewayIDFile = "gateway.id"

// resolveGatewayID is gateway.id from the config, else the id kept in the
// data directory, else a new random one written there (0600, exclusive).
func resolveGatewayID(cfg *config.Config) (string, error) {
	if cfg.Gateway.ID != "" {
		return cfg.Gateway.ID, nil
	}
	path := filepath.Join(cfg.DataDir, gatewayIDFile)
	for range 2 {
		b, err := os.ReadFile(path)
		if err == nil {
			id := strings.TrimSpace(string(b))
			if !config.ValidGatewayID(id) {
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
