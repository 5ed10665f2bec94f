package gateway

import (
	"net/http"

	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/mediaseal/mediaseal/media/whip"
)

// whipPath is where the WHIP endpoint is mounted; session URLs are below it.
const whipPath = "/whip"

// whipConfig translates the whip config section.
func (g *Gateway) whipConfig() whip.Config {
	c := g.cfg.WHIP
	wc := whip.Config{PostRate: rate.Limit(c.PostRate), PostBurst: c.PostBurst, MaxSessions: c.MaxSessions,
		UDPPortMin: uint16(c.UDPPortMin), UDPPortMax: uint16(c.UDPPortMax), NAT1To1IPs: c.NAT1To1IPs,
		IncludeLoopback: c.IncludeLoopback, AllowOrigins: c.AllowOrigins, Logger: g.log.Named("whip")}
	for _, s := range c.ICEServers {
		wc.ICEServers = append(wc.ICEServers, whip.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return wc
}

// whipRoutes mounts POST /whip and the WHIP session URLs, authorized like
// the session API (scope media:ingest). WHIP sessions end with the media
// manager: its shutdown ends every call, which closes the PeerConnections.
func (g *Gateway) whipRoutes(mux *http.ServeMux) {
	if g.cfg.WHIP.Disabled {
		return
	}
	srv, err := whip.New(g.media, g.whipConfig())
	if err != nil {
		g.log.Error("WHIP endpoint disabled", zap.Error(err))
		return
	}
	srv.Register(mux, whipPath, func(h http.HandlerFunc) http.HandlerFunc { return g.requireScope(ScopeIngest, h) })
}
