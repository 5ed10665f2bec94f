package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	"github.com/mediaseal/mediaseal/internal/config"
)

// envCA names a PEM file of CAs the CLI trusts for the gateway's HTTPS
// API, when --ca is not given (a private CA is the usual case).
const envCA = "MEDIASEAL_CA"

// apiScheme is the scheme of the config's API listener.
func apiScheme(cfg *config.Config) string {
	if cfg.API.TLS.Enabled() {
		return "https://"
	}
	return "http://"
}

// setupTLS makes every HTTP client of the CLI trust the CAs in --ca (or
// $MEDIASEAL_CA) in addition to the system roots; TLS 1.2 minimum.
func (g *globals) setupTLS() error {
	path := g.caFile
	if path == "" {
		path = os.Getenv(envCA)
	}
	if path == "" {
		httpClient.Transport, streamClient.Transport = nil, nil // system roots
		return nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--ca: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("--ca: %s holds no PEM certificate", path)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	httpClient.Transport, streamClient.Transport = tr, tr
	return nil
}
