package gateway

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/media/siprec"
)

// startSIPREC opens the SIPREC listeners when siprec.enabled is set and
// serves them until the returned stop function is called (idempotent;
// Run calls it before the media manager ends the remaining sessions).
func (g *Gateway) startSIPREC() (stop func(), err error) {
	sc := g.cfg.SIPREC
	if !sc.Enabled {
		return func() {}, nil
	}
	adv, err := netip.ParseAddr(g.cfg.Media.AdvertiseAddr)
	if err != nil {
		return nil, fmt.Errorf("media.advertiseAddr: %w", err)
	}
	cfg := siprec.Config{Realm: sc.Auth.Realm, AdvertiseAddr: adv, Logger: g.log,
		Mapping: siprec.Mapping{QueueID: sc.Mapping.QueueID, Direction: sc.Mapping.Direction,
			CallID: sc.Mapping.CallID, ParticipantRole: sc.Mapping.ParticipantRole}}
	for _, l := range sc.Listen {
		cfg.Listen = append(cfg.Listen, siprec.Listen{Transport: l.Transport, Addr: l.Addr})
		if l.Transport == "tls" && cfg.TLS == nil {
			cert, err := tls.LoadX509KeyPair(sc.TLS.CertFile, sc.TLS.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("siprec.tls: %w", err)
			}
			cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		}
	}
	for _, a := range sc.Auth.AllowFrom {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			ip := net.ParseIP(a)
			addr, _ := netip.AddrFromSlice(ip)
			p = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
		}
		cfg.AllowFrom = append(cfg.AllowFrom, p)
	}
	if len(sc.Auth.Users) > 0 {
		cfg.Users = map[string]string{}
		for _, u := range sc.Auth.Users {
			cfg.Users[u.Username] = u.Password
		}
	}
	srv, err := siprec.New(cfg, g.media)
	if err != nil {
		return nil, err
	}
	g.sip = srv
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Run(ctx); err != nil {
			g.log.Error("SIPREC server stopped", zap.Error(err))
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-done }) }, nil
}

// SIPAddr is the address of the SIPREC listener for transport (udp, tcp,
// tls), or "" when SIPREC is disabled. Valid once Ready is closed.
func (g *Gateway) SIPAddr(transport string) string {
	if g.sip == nil {
		return ""
	}
	return g.sip.Addr(transport)
}
