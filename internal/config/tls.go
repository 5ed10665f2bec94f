package config

import (
	"net"
	"net/netip"
)

// APITLS configures TLS on the API listener. Everything that listener
// serves — client secrets at the token endpoint, bearer tokens, decrypted
// playback audio, the session API and WHIP offers — is otherwise readable
// and alterable by any host on the path.
type APITLS struct {
	// CertFile and KeyFile are the PEM server certificate chain and its
	// private key. Both set: the API serves HTTPS only (TLS 1.2 minimum).
	// They are read again on SIGHUP; a pair that does not load keeps the
	// current one (and logs why).
	CertFile string `yaml:"certFile"`
	KeyFile  string `yaml:"keyFile"`
	// ClientCAFile, when set, requires every client to present a
	// certificate issued by one of these CAs (mutual TLS).
	ClientCAFile string `yaml:"clientCAFile"`
}

// Enabled says whether the API listener serves TLS.
func (t APITLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// validateTLS refuses a half-configured TLS section and a plain-HTTP API
// reachable from other hosts unless api.insecurePlaintext says so: a
// listener on 0.0.0.0 without TLS hands every bearer token and every
// played-back call to whoever can watch the network.
func (a API) validateTLS() error {
	t := a.TLS
	switch {
	case t.Enabled() && t.CertFile == "":
		return &FieldError{"api.tls.certFile", t.CertFile, "must be set with api.tls.keyFile"}
	case t.Enabled() && t.KeyFile == "":
		return &FieldError{"api.tls.keyFile", t.KeyFile, "must be set with api.tls.certFile"}
	case !t.Enabled() && t.ClientCAFile != "":
		return &FieldError{"api.tls.clientCAFile", t.ClientCAFile, "needs api.tls.certFile and keyFile"}
	case t.Enabled() && a.InsecurePlaintext:
		return &FieldError{"api.insecurePlaintext", a.InsecurePlaintext, "contradicts api.tls (remove one)"}
	case !t.Enabled() && !a.InsecurePlaintext && !loopbackAddr(a.Addr):
		return &FieldError{"api.addr", a.Addr, "plain HTTP on a non-loopback address exposes tokens and playback audio: " +
			"set api.tls.certFile/keyFile, or api.insecurePlaintext: true behind a TLS-terminating proxy on the same host"}
	}
	return nil
}

// loopbackAddr says whether HOST:PORT listens on loopback only ("localhost"
// included; an empty host or a wildcard listens on every interface).
func loopbackAddr(hostPort string) bool {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
