package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/internal/config"
)

// apiCipherSuites are the TLS 1.2 suites the API accepts: ECDHE for
// forward secrecy and AEAD only (no CBC, no RSA key exchange). TLS 1.3
// suites are not configurable and are all AEAD.
var apiCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// certReloader serves the API certificate through GetCertificate so that
// a new one (SIGHUP) is picked up by the next handshake while the
// listener and the connections already open stay as they are.
type certReloader struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

func newCertReloader(c config.APITLS) (*certReloader, error) {
	r := &certReloader{certFile: c.CertFile, keyFile: c.KeyFile}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads the pair again. On any error the certificate being served
// stays: a bad file during a rotation must not take the API down.
func (r *certReloader) Reload() error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("api.tls: load %s / %s: %w", r.certFile, r.keyFile, err)
	}
	if cert.Leaf == nil {
		return fmt.Errorf("api.tls: %s: no leaf certificate", r.certFile)
	}
	r.cur.Store(&cert)
	return nil
}

func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cur.Load(), nil
}

// apiTLSConfig builds the server's TLS configuration: TLS 1.2 minimum,
// AEAD suites, the reloadable certificate and, with clientCAFile, client
// certificates required and verified.
func apiTLSConfig(c config.APITLS, r *certReloader) (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   apiCipherSuites,
		GetCertificate: r.getCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("api.tls.clientCAFile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("api.tls.clientCAFile: %s holds no PEM certificate", c.ClientCAFile)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// listenAPI opens the API listener: TLS when api.tls is set (the
// reloader is kept for ReloadTLS), plain TCP otherwise (validated as
// loopback or an explicit api.insecurePlaintext).
func (g *Gateway) listenAPI() (net.Listener, error) {
	ln, err := net.Listen("tcp", g.cfg.API.Addr)
	if err != nil {
		return nil, fmt.Errorf("api.addr: %w", err)
	}
	if !g.cfg.API.TLS.Enabled() {
		return ln, nil
	}
	r, err := newCertReloader(g.cfg.API.TLS)
	if err != nil {
		ln.Close()
		return nil, err
	}
	tc, err := apiTLSConfig(g.cfg.API.TLS, r)
	if err != nil {
		ln.Close()
		return nil, err
	}
	g.tlsCerts.Store(r)
	return tls.NewListener(ln, tc), nil
}

// errNoTLS is ReloadTLS's answer when the API serves plain HTTP.
var errNoTLS = errors.New("api.tls is not configured")

// ReloadTLS reads the API certificate and key again (SIGHUP). Handshakes
// after it succeeds present the new certificate; on error the old one
// stays in service and the error says why.
func (g *Gateway) ReloadTLS() error {
	r := g.tlsCerts.Load()
	if r == nil {
		return errNoTLS
	}
	if err := r.Reload(); err != nil {
		g.log.Error("api certificate not reloaded; the current one stays in service", zap.Error(err))
		return err
	}
	leaf := r.cur.Load().Leaf
	g.log.Info("api certificate reloaded", zap.String("subject", leaf.Subject.String()),
		zap.Time("notAfter", leaf.NotAfter), zap.String("serial", leaf.SerialNumber.String()))
	return nil
}

// ReloadTLSOn reloads the API certificate on every value from sig (serve
// passes SIGHUP) until ctx is done. A failed reload is logged and keeps
// the current certificate; the listener is never closed.
func (g *Gateway) ReloadTLSOn(ctx context.Context, sig <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
			if err := g.ReloadTLS(); errors.Is(err, errNoTLS) {
				g.log.Info("reload signal: api.tls is not configured, nothing to reload")
			}
		}
	}
}
