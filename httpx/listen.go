package httpx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"go.uber.org/zap"
)

// Listener is the API listener: TLS when files are given, with its
// certificate reloadable in place, plain TCP otherwise (the config allows
// that only on loopback or with an explicit insecurePlaintext).
type Listener struct {
	net.Listener
	certs *CertReloader // nil: plain HTTP
	log   *zap.Logger
}

// Listen opens addr, wrapped in TLS with files when files is not nil.
func Listen(addr string, files *TLSFiles, log *zap.Logger) (*Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("api.addr: %w", err)
	}
	l := &Listener{Listener: ln, log: log}
	if files != nil {
		if l.Listener, l.certs, err = ListenTLS(ln, *files); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Reload reads the certificate and key again (SIGHUP). Handshakes after
// it succeeds present the new certificate; on error the old one stays in
// service and the error says why.
func (l *Listener) Reload() error {
	leaf, err := l.certs.Reload()
	switch {
	case errors.Is(err, ErrNoTLS):
		l.log.Info("reload signal: api.tls is not configured, nothing to reload")
	case err != nil:
		l.log.Error("api certificate not reloaded; the current one stays in service", zap.Error(err))
	default:
		l.log.Info("api certificate reloaded", zap.String("subject", leaf.Subject.String()),
			zap.Time("notAfter", leaf.NotAfter), zap.String("serial", leaf.SerialNumber.String()))
	}
	return err
}

// ReloadOn reloads the certificate on every value from sig until ctx is
// done. The listener is never closed.
func (l *Listener) ReloadOn(ctx context.Context, sig <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
			_ = l.Reload()
		}
	}
}
