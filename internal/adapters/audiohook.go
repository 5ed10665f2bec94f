package adapters

import (
	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/media/audiohook"
)

// AudioHook is the AudioHook endpoint's config from the audiohook
// section; the endpoint reads the client secret files when it starts.
func AudioHook(cfg *config.Config, log *zap.Logger) audiohook.Config {
	a := cfg.AudioHook
	c := audiohook.Config{Enabled: a.Enabled(), Path: a.Path, MaxMessageBytes: int64(a.MaxMessageBytes),
		MaxFrameBytes: int64(a.MaxFrameBytes), MaxPerKey: a.MaxSessionsPerKey, IdleTimeout: a.IdleTimeout.D(),
		Direction: a.Direction, Logger: log.Named("audiohook")}
	for _, ig := range a.Integrations {
		c.IntegrationFiles = append(c.IntegrationFiles, audiohook.IntegrationConfig{Name: ig.Name, APIKey: ig.APIKey,
			ClientSecretFile: ig.ClientSecretFile, OrganizationID: ig.OrganizationID})
	}
	return c
}
