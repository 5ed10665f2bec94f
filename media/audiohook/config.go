package audiohook

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"
)

// DefaultPath is where the endpoint is mounted by default.
const DefaultPath = "/audiohook/v1"

// Defaults used when a Config field is zero.
const (
	DefaultMaxFrameBytes = 64 << 10
	DefaultMaxPerKey     = 100
	DefaultIdleTimeout   = 10 * time.Second
	DefaultMaxSkew       = 30 * time.Second
	DefaultMaxAge        = 5 * time.Minute
)

// IntegrationConfig is an integration as configured: the client secret
// stays in a file, base64 as the platform shows it.
type IntegrationConfig struct {
	Name             string
	APIKey           string
	ClientSecretFile string
	OrganizationID   string
}

// Config configures the endpoint.
type Config struct {
	// Enabled mounts the endpoint (Mount does nothing otherwise).
	Enabled bool
	Path    string
	// Integrations are the API keys and client secrets upgrades may sign
	// with; Integrations holds them read, IntegrationFiles names them.
	Integrations     []Integration
	IntegrationFiles []IntegrationConfig
	// MaxMessageBytes bounds a text message, MaxFrameBytes an audio frame.
	MaxMessageBytes int64
	MaxFrameBytes   int64
	// MaxPerKey bounds the live sessions of one integration.
	MaxPerKey int
	// IdleTimeout ends a session that sends nothing for this long.
	IdleTimeout time.Duration
	// MaxSkew and MaxAge bound the upgrade signature's times.
	MaxSkew, MaxAge time.Duration
	// Direction is the call direction when customConfig names none.
	Direction string
	Now       func() time.Time
	Logger    *zap.Logger
}

// setDefaults fills zero fields and reads the secret files; external says
// integrations also come from elsewhere (Deps.Integrations).
func (c *Config) setDefaults(external bool) error {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = MaxMessageBytes
	}
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = DefaultMaxFrameBytes
	}
	if c.MaxPerKey <= 0 {
		c.MaxPerKey = DefaultMaxPerKey
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxSkew <= 0 {
		c.MaxSkew = DefaultMaxSkew
	}
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.Direction == "" {
		c.Direction = "INBOUND"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	for _, f := range c.IntegrationFiles {
		b, err := os.ReadFile(f.ClientSecretFile)
		if err != nil {
			return fmt.Errorf("audiohook: integration %s: client secret: %w", f.Name, err)
		}
		secret, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(b)))
		if err != nil || len(secret) < 16 {
			return fmt.Errorf("audiohook: integration %s: the client secret file must hold the base64 secret (16 bytes or more)", f.Name)
		}
		c.Integrations = append(c.Integrations, Integration{Name: f.Name, APIKey: f.APIKey, Secret: secret, OrganizationID: f.OrganizationID})
	}
	switch {
	case len(c.Integrations) == 0 && !external:
		return fmt.Errorf("audiohook: no integration configured: nothing could authenticate")
	case c.Path[0] != '/':
		return fmt.Errorf("audiohook: path %q must start with /", c.Path)
	}
	for _, ig := range c.Integrations {
		if ig.Name == "" || len(ig.APIKey) < 8 || len(ig.Secret) < 16 {
			return fmt.Errorf("audiohook: integration %q needs a name, an API key of 8 characters or more and a secret of 16 bytes or more", ig.Name)
		}
	}
	return nil
}
