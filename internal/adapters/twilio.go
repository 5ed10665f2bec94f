package adapters

import (
	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/media/twilio"
)

// Twilio is the Twilio Media Streams endpoint's config from the twilio
// section; the endpoint reads the auth token file itself when it starts.
func Twilio(cfg *config.Config, log *zap.Logger) twilio.Config {
	t := cfg.Twilio
	return twilio.Config{Enabled: !t.Disabled, Path: t.Path, Auth: t.Auth, AuthTokenFile: t.AuthTokenFile, AccountSid: t.AccountSid,
		PublicURL: t.PublicURL, MaxMessageBytes: int64(t.MaxMessageBytes), MaxPerPrincipal: t.MaxStreamsPerPrincipal,
		IdleTimeout: t.IdleTimeout.D(), Direction: t.Direction, Logger: log.Named("twilio")}
}
