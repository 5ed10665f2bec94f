package gateway

import (
	"context"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/httpx"
	"github.com/mediaseal/mediaseal/internal/adapters"
	"github.com/mediaseal/mediaseal/media/audiohook"
	"github.com/mediaseal/mediaseal/media/sessionapi"
	"github.com/mediaseal/mediaseal/media/siprec"
	"github.com/mediaseal/mediaseal/media/twilio"
	"github.com/mediaseal/mediaseal/media/whip"
)

// The ingest protocols beside the session API: SIPREC, WHIP, Twilio, AudioHook.

// startSIPREC opens the SIPREC listeners when siprec.enabled is set and
// serves them until the returned stop (idempotent; Run calls it before the
// media manager ends the remaining sessions).
func (g *Gateway) startSIPREC(ctx context.Context) (stop func() error, err error) {
	cfg, on, err := adapters.SIPREC(g.cfg, g.log)
	if err != nil || !on {
		return func() error { return nil }, err
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

// SIPAddr is the SIPREC listener's address for transport (udp, tcp, tls),
// "" when SIPREC is disabled. Valid once Ready is closed.
func (g *Gateway) SIPAddr(transport string) string {
	if g.sip == nil {
		return ""
	}
	return g.sip.Addr(transport)
}

// ingestRoutes mounts the Twilio (/twilio/v1) and AudioHook
// (/audiohook/v1) endpoints, POST /whip and the WHIP session URLs below
// it. Their sessions end with the media manager's shutdown.
func (g *Gateway) ingestRoutes(mux httpx.Router, auth httpx.Authorizer) {
	twilio.Mount(mux, twilio.Deps{Media: g.media, Authorizer: auth, Registerer: g.reg, Config: adapters.Twilio(g.cfg, g.log)})
	audiohook.Mount(mux, audiohook.Deps{Media: g.media, Registerer: g.reg, Integrations: g.cp.AudioHookSource(), Config: adapters.AudioHook(g.cfg, g.log)})
	if g.cfg.WHIP.Disabled {
		return
	}
	srv, err := whip.New(g.media, adapters.WHIP(g.cfg, g.log))
	if err != nil {
		g.log.Error("WHIP endpoint disabled", zap.Error(err))
		return
	}
	srv.Register(mux, "/whip", httpx.Scoped(auth, sessionapi.ScopeIngest))
}
