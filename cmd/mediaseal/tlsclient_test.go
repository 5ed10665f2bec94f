package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/auth"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/testenv"
)

// TestCLIOverTLS: the CLI reaches a gateway serving api.tls with --ca (or
// $MEDIASEAL_CA) naming the private CA, and refuses it without.
func TestCLIOverTLS(t *testing.T) {
	ca := testenv.NewCA(t, "cli test CA")
	dir := t.TempDir()
	c, k := ca.Issue(10, false)
	addr, adminToken := startGateway(t, func(cfg *config.Config) {
		cfg.API.TLS = config.APITLS{CertFile: writeFileIn(t, dir, "api.crt", c), KeyFile: writeFileIn(t, dir, "api.key", k)}
	})
	base := strings.Replace(addr, "http://", "https://", 1)
	dataDir := filepath.Dir(adminToken)
	creds := auth.CredentialsPath(dataDir, "policy-admin-1")
	caFile := writeFileIn(t, dir, "ca.crt", ca.PEM)

	if _, err := mediaseal(t, "token", "--credentials", creds, "--api", base); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without --ca: %v, want a certificate error", err)
	}
	out, err := mediaseal(t, "token", "--credentials", creds, "--api", base, "--ca", caFile)
	if err != nil || len(strings.TrimSpace(out)) < 20 {
		t.Fatalf("with --ca: %q, %v", out, err)
	}
	t.Setenv(envCA, caFile)
	tok := writeFileIn(t, dir, "token", []byte(out))
	if _, err := mediaseal(t, "policies", "list", "--api", base, "--token-file", tok); err != nil {
		t.Fatalf("with $%s: %v", envCA, err)
	}
	t.Setenv(envCA, "")
	_, _ = mediaseal(t, "--help") // leave the package clients on the system roots
}

func writeFileIn(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServeRefusesPlainAPIOverride: --api-addr cannot move a plain-HTTP
// API off loopback past the config validator.
func TestServeRefusesPlainAPIOverride(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		_, err := mediaseal(t, "serve", "--data-dir", t.TempDir(), "--api-addr", addr)
		if err == nil || !strings.Contains(err.Error(), "insecurePlaintext") {
			t.Fatalf("serve --api-addr %s: %v, want the plain-HTTP refusal", addr, err)
		}
	}
}
