package adapters

import (
	"fmt"
	"net/netip"

	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms/broker"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/media/siprec"
	"github.com/mediaseal/mediaseal/media/whip"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// The services take inputs of their own, not the config file: these
// translate its sections, so a service never learns the file's shape and
// the assembly stays a list of services.

// Media is the media manager's config from the media and recording
// sections.
func Media(cfg *config.Config) (media.Config, error) {
	bind, err := netip.ParseAddr(cfg.Media.BindAddr)
	if err != nil {
		return media.Config{}, fmt.Errorf("media.bindAddr: %w", err)
	}
	adv, err := netip.ParseAddr(cfg.Media.AdvertiseAddr)
	if err != nil {
		return media.Config{}, fmt.Errorf("media.advertiseAddr: %w", err)
	}
	return media.Config{
		OrgID: cfg.Org.ID, BindAddr: bind, AdvertiseAddr: adv, PortMin: cfg.Media.PortMin, PortMax: cfg.Media.PortMax,
		InactivityTimeout: cfg.Media.InactivityTimeout.D(), MaxPendingBytes: int(cfg.Media.MaxPendingBytes),
		SocketBuffer: int(cfg.Media.SocketBuffer), MaxSessions: cfg.Media.MaxSessions, LatchWindow: cfg.Media.Latching(), SRTP: cfg.Media.SRTP,
		FlushInterval: cfg.Recording.FlushInterval.D(), RetentionDays: cfg.Recording.RetentionDays,
		SealOptions: []seal.Option{seal.WithMaxChunkSize(int(cfg.Recording.MaxChunkSize)), seal.WithCompression(cfg.Recording.Compression)},
	}, nil
}

// Broker is the DEK broker's config from the kms section.
func Broker(cfg *config.Config) broker.Config {
	return broker.Config{Timeout: cfg.KMS.Timeout.D(), PlatformKey: PlatformKey(cfg),
		BreakerFailures: cfg.KMS.Breaker.Failures, BreakerCooldown: cfg.KMS.Breaker.Cooldown.D()}
}

// SIPREC is the SIPREC server's config from the siprec section (ok false:
// SIPREC is not enabled).
func SIPREC(cfg *config.Config, log *zap.Logger) (c siprec.Config, ok bool, err error) {
	sc := cfg.SIPREC
	if !sc.Enabled {
		return c, false, nil
	}
	adv, err := netip.ParseAddr(cfg.Media.AdvertiseAddr)
	if err != nil {
		return c, false, fmt.Errorf("media.advertiseAddr: %w", err)
	}
	c = siprec.Config{Realm: sc.Auth.Realm, AdvertiseAddr: adv, Logger: log, AllowFrom: siprec.ParseAllowFrom(sc.Auth.AllowFrom),
		Mapping: siprec.Mapping{QueueID: sc.Mapping.QueueID, Direction: sc.Mapping.Direction,
			CallID: sc.Mapping.CallID, ParticipantRole: sc.Mapping.ParticipantRole},
		SDESOverPlainSIP: sc.SDESOverPlainSIP}
	for _, l := range sc.Listen {
		c.Listen = append(c.Listen, siprec.Listen{Transport: l.Transport, Addr: l.Addr})
		if l.Transport == "tls" && c.TLS == nil {
			if c.TLS, err = siprec.LoadTLS(sc.TLS.CertFile, sc.TLS.KeyFile); err != nil {
				return c, false, err
			}
		}
	}
	if len(sc.Auth.Users) > 0 {
		c.Users = map[string]string{}
		for _, u := range sc.Auth.Users {
			c.Users[u.Username] = u.Password
		}
	}
	return c, true, nil
}

// WHIP is the WHIP endpoint's config from the whip section.
func WHIP(cfg *config.Config, log *zap.Logger) whip.Config {
	c := cfg.WHIP
	wc := whip.Config{PostRate: rate.Limit(c.PostRate), PostBurst: c.PostBurst, MaxSessions: c.MaxSessions,
		UDPPortMin: uint16(c.UDPPortMin), UDPPortMax: uint16(c.UDPPortMax), NAT1To1IPs: c.NAT1To1IPs,
		IncludeLoopback: c.IncludeLoopback, AllowOrigins: c.AllowOrigins, Logger: log.Named("whip")}
	for _, s := range c.ICEServers {
		wc.ICEServers = append(wc.ICEServers, whip.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return wc
}
