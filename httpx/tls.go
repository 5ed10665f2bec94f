package httpx

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
)

// cipherSuites are the TLS 1.2 suites the API accepts: ECDHE for forward
// secrecy and AEAD only (no CBC, no RSA key exchange). TLS 1.3 suites are
// not configurable and are all AEAD.
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// TLSFiles name a server's certificate, its key and, when ClientCAFile is
// set, the CAs whose client certificates it requires.
type TLSFiles struct {
	CertFile, KeyFile, ClientCAFile string
}

// CertReloader serves a certificate through GetCertificate so that a new
// one (SIGHUP) is picked up by the next handshake while the listener and
// the connections already open stay as they are.
type CertReloader struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// NewCertReloader loads the pair a first time.
func NewCertReloader(certFile, keyFile string) (*CertReloader, error) {
	r := &CertReloader{certFile: certFile, keyFile: keyFile}
	if _, err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads the pair again and returns the new leaf. On any error the
// certificate being served stays: a bad file during a rotation must not
// take the API down.
func (r *CertReloader) Reload() (*x509.Certificate, error) {
	if r == nil {
		return nil, ErrNoTLS
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return nil, fmt.Errorf("api.tls: load %s / %s: %w", r.certFile, r.keyFile, err)
	}
	if cert.Leaf == nil {
		return nil, fmt.Errorf("api.tls: %s: no leaf certificate", r.certFile)
	}
	r.cur.Store(&cert)
	return cert.Leaf, nil
}

func (r *CertReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cur.Load(), nil
}

// ServerTLSConfig builds a server's TLS configuration: TLS 1.2 minimum,
// AEAD suites, the reloadable certificate and, with f.ClientCAFile,
// client certificates required and verified.
func ServerTLSConfig(f TLSFiles, r *CertReloader) (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   cipherSuites,
		GetCertificate: r.getCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
	if f.ClientCAFile != "" {
		pem, err := os.ReadFile(f.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("api.tls.clientCAFile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("api.tls.clientCAFile: %s holds no PEM certificate", f.ClientCAFile)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// ListenTLS wraps ln in TLS with f's certificate, reloadable through the
// returned CertReloader. ln is closed on error.
func ListenTLS(ln net.Listener, f TLSFiles) (net.Listener, *CertReloader, error) {
	r, err := NewCertReloader(f.CertFile, f.KeyFile)
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	tc, err := ServerTLSConfig(f, r)
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	return tls.NewListener(ln, tc), r, nil
}

// ErrNoTLS is Reload's answer for a server with no certificate to reload
// (plain HTTP: a nil CertReloader).
var ErrNoTLS = errors.New("api.tls is not configured")
