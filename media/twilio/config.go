package twilio

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"
)

// Auth modes (Config.Auth).
const (
	// AuthBearer: the upgrade carries "Authorization: Bearer" of a
	// principal with ScopeIngest (in the <Stream> url's userinfo-free
	// form, Twilio cannot send headers: use it behind a proxy that adds
	// the token, or for other senders of the protocol).
	AuthBearer = "bearer"
	// AuthSignature: the upgrade carries X-Twilio-Signature made with the
	// account's auth token.
	AuthSignature = "signature"
)

// ScopeIngest is the scope a bearer token needs (the session API's).
const ScopeIngest = "media:ingest"

// DefaultPath is where the endpoint is mounted by default.
const DefaultPath = "/twilio/v1"

// Defaults used when a Config field is zero.
const (
	DefaultMaxMessageBytes = 64 << 10
	DefaultMaxPerPrincipal = 100
	DefaultIdleTimeout     = 10 * time.Second
	DefaultMaxLead         = 5 * time.Second
)

// Config configures the endpoint.
type Config struct {
	// Enabled mounts the endpoint (Mount does nothing otherwise).
	Enabled bool
	// Path is the WebSocket endpoint's path (DefaultPath).
	Path string
	// Auth is AuthBearer or AuthSignature.
	Auth string
	// AuthToken is the account's auth token (AuthSignature): the HMAC key.
	AuthToken []byte
	// AuthTokenFile holds AuthToken when AuthToken is empty: the secret
	// stays out of the configuration.
	AuthTokenFile string
	// AccountSid, when set, is the only account whose streams are taken
	// (start.accountSid must equal it).
	AccountSid string
	// PublicURL is the URL as Twilio requests it (wss://host/path), for
	// signatures behind a proxy that rewrites Host or ends TLS; empty:
	// rebuilt from the request.
	PublicURL string
	// MaxMessageBytes bounds one WebSocket message.
	MaxMessageBytes int64
	// MaxPerPrincipal bounds the live streams of one principal (the
	// signature's principal is the account).
	MaxPerPrincipal int
	// IdleTimeout ends a stream that sends nothing for this long.
	IdleTimeout time.Duration
	// MaxLead is how far a chunk's timestamp may run ahead of the time
	// since the stream started: audio is placed by timestamp, so a sender
	// cannot stretch a recording with far-future timestamps.
	MaxLead time.Duration
	// Direction is the call direction when customParameters give none.
	Direction string
	Logger    *zap.Logger
}

func (c *Config) setDefaults() error {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.MaxPerPrincipal <= 0 {
		c.MaxPerPrincipal = DefaultMaxPerPrincipal
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxLead <= 0 {
		c.MaxLead = DefaultMaxLead
	}
	if c.Direction == "" {
		c.Direction = "INBOUND"
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.Auth == AuthSignature && len(c.AuthToken) == 0 && c.AuthTokenFile != "" {
		b, err := os.ReadFile(c.AuthTokenFile)
		if err != nil {
			return fmt.Errorf("twilio: auth token: %w", err)
		}
		c.AuthToken = bytes.TrimSpace(b)
	}
	switch {
	case c.Auth != AuthBearer && c.Auth != AuthSignature:
		return fmt.Errorf("twilio: auth %q: must be %s or %s", c.Auth, AuthBearer, AuthSignature)
	case c.Auth == AuthSignature && len(c.AuthToken) == 0:
		return fmt.Errorf("twilio: auth %s needs the account's auth token", AuthSignature)
	case c.Path[0] != '/':
		return fmt.Errorf("twilio: path %q must start with /", c.Path)
	}
	return nil
}
