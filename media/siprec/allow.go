package siprec

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
)

// ParseAllowFrom reads an allow list of CIDR prefixes or single addresses
// (an address admits itself alone).
func ParseAllowFrom(entries []string) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range entries {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			addr, _ := netip.AddrFromSlice(net.ParseIP(a))
			p = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
		}
		out = append(out, p)
	}
	return out
}

// LoadTLS is the TLS configuration of the tls listeners: the certificate
// pair, TLS 1.2 minimum.
func LoadTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("siprec.tls: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
