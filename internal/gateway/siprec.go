package gateway

import (
	"context"
	"fmt"
	"net/netip"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/media/siprec"
)

// startSIPREC opens the SIPREC listeners when siprec.enabled is set and
// serves them until the returned stop (idempotent; Run calls it before the
// media manager ends the remaining sessions).
func (g *Gateway) startSIPREC(ctx context.Context) (stop func() error, err error) {
	sc := g.cfg.SIPREC
	if !sc.Enabled {
		return func() error { return nil }, nil
	}
	adv, err := netip.ParseAddr(g.cfg.Media.AdvertiseAddr)
	if err != nil {
		return nil, fmt.Errorf("media.advertiseAddr: %w", err)
	}
	cfg := siprec.Config{Realm: sc.Auth.Realm, AdvertiseAddr: adv, Logger: g.log, AllowFrom: siprec.ParseAllowFrom(sc.Auth.AllowFrom),
		Mapping: siprec.Mapping{QueueID: sc.Mapping.QueueID, Direction: sc.Mapping.Direction,
			CallID: sc.Mapping.CallID, ParticipantRole: sc.Mapping.ParticipantRole}}
	for _, l := range sc.Listen {
		cfg.Listen = append(cfg.Listen, siprec.Listen{Transport: l.Transport, Addr: l.Addr})
		if l.Transport == "tls" && cfg.TLS == nil {
			if cfg.TLS, err = siprec.LoadTLS(sc.TLS.CertFile, sc.TLS.KeyFile); err != nil {
				return nil, err
			}
		}
	}
	if len(sc.Auth.Users) > 0 {
		cfg.Users = map[string]string{}
		for _, u := range sc.Auth.Users {
			cfg.Users[u.Username] = u.Password
		}
	}
	if g.sip, err = siprec.New(cfg, g.media); err != nil {
		return nil, err
	}
	return background(ctx, func(ctx context.Context) error {
		if err := g.sip.Run(ctx); err != nil {
			g.log.Error("SIPREC server stopped", zap.Error(err))
		}
		return nil
	}), nil
}

// SIPAddr is the address of the SIPREC listener for transport (udp, tcp,
// tls), or "" when SIPREC is disabled. Valid once Ready is closed.
func (g *Gateway) SIPAddr(transport string) string {
	if g.sip == nil {
		return ""
	}
	return g.sip.Addr(transport)
}
