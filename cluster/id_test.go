package cluster

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mediaseal/mediaseal/internal/config"
)

// TestGatewayIDStable: without gateway.id a gateway keeps the random id it
// generated on first start (not hostname-pid); a configured id wins; a bad
// id in the config or in the file is refused, naming the field or file.
func TestGatewayIDStable(t *testing.T) {
	cfg := idConfig(t)
	first, err := ResolveID(cfg.Gateway.ID, cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if !config.ValidGatewayID(first) || first == host {
		t.Fatalf("generated id %q", first)
	}
	if again, err := ResolveID(cfg.Gateway.ID, cfg.DataDir); err != nil || again != first {
		t.Fatalf("second start: %q, %v (first %q)", again, err, first)
	}
	if other, _ := ResolveID("", idConfig(t).DataDir); other == first {
		t.Fatalf("two data dirs share the id %q", other)
	}
	cfg.Gateway.ID = "gw-east-1"
	if id, err := ResolveID(cfg.Gateway.ID, cfg.DataDir); err != nil || id != "gw-east-1" {
		t.Fatalf("configured id: %q, %v", id, err)
	}

	for _, bad := range []string{"GW1", "-a", "a b", "a/b", string(make([]byte, 64))} {
		c := idConfig(t)
		c.Gateway.ID = bad
		var fe *config.FieldError
		if err := c.Validate(); !errors.As(err, &fe) || fe.Field != "gateway.id" {
			t.Errorf("gateway.id %q: %v", bad, err)
		}
	}
	c := idConfig(t)
	if err := os.WriteFile(filepath.Join(c.DataDir, IDFile), []byte("../../etc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ResolveID(c.Gateway.ID, c.DataDir); err == nil {
		t.Fatal("a bad id in the data dir was accepted")
	}
}

// idConfig is the default config with its own data directory.
func idConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse(config.Default)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	return cfg
}
