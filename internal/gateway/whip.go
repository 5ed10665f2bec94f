package gateway

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/internal/adapters"
	"github.com/mediaseal/mediaseal/media/whip"
)

// whipPath is where the WHIP endpoint is mounted; session URLs are below it.
const whipPath = "/whip"

// whipRoutes mounts POST /whip and the WHIP session URLs, authorized like
// the session API (scope media:ingest). WHIP sessions end with the media
// manager: its shutdown ends every call, which closes the PeerConnections.
func (g *Gateway) whipRoutes(mux httpx.Router) {
	if g.cfg.WHIP.Disabled {
		return
	}
	srv, err := whip.New(g.media, adapters.WHIP(g.cfg, g.log))
	if err != nil {
		g.log.Error("WHIP endpoint disabled", zap.Error(err))
		return
	}
	srv.Register(mux, whipPath, func(h http.HandlerFunc) http.HandlerFunc { return g.requireScope(ScopeIngest, h) })
}
