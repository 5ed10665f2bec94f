package config

import (
	"net/url"
	"regexp"
	"strings"
)

// Twilio configures the Twilio Media Streams endpoint on the API listener
// (docs/twilio.md). It is on, like WHIP, and takes bearer tokens of
// media:ingest as the session API does until auth is signature.
type Twilio struct {
	// Disabled turns the endpoint off.
	Disabled bool `yaml:"disabled"`
	// Path of the WebSocket endpoint; default /twilio/v1.
	Path string `yaml:"path"`
	// Auth is bearer (a principal's token with media:ingest, the default)
	// or signature (X-Twilio-Signature, what Twilio itself sends).
	Auth string `yaml:"auth"`
	// AuthTokenFile holds the account's auth token (signature): a secret
	// file, never the token itself in the configuration.
	AuthTokenFile string `yaml:"authTokenFile"`
	// AccountSid, when set, is the only account whose streams are taken.
	AccountSid string `yaml:"accountSid"`
	// PublicURL is the wss:// URL given to Twilio, when a proxy between
	// changes the scheme, host or path the gateway sees.
	PublicURL string `yaml:"publicUrl"`
	// MaxMessageBytes bounds one WebSocket message.
	MaxMessageBytes int `yaml:"maxMessageBytes"`
	// MaxStreamsPerPrincipal bounds one principal's (or the account's) live streams.
	MaxStreamsPerPrincipal int `yaml:"maxStreamsPerPrincipal"`
	// IdleTimeout ends a stream that sends nothing for this long.
	IdleTimeout Duration `yaml:"idleTimeout"`
	// Direction of calls whose customParameters name none.
	Direction string `yaml:"direction"`
}

// Twilio defaults.
const (
	DefaultTwilioPath        = "/twilio/v1"
	DefaultTwilioAuth        = "bearer"
	DefaultTwilioMaxMessage  = 64 << 10
	DefaultTwilioMaxStreams  = 100
	DefaultTwilioIdleTimeout = Duration(10e9)
	DefaultTwilioDirection   = "INBOUND"
)

var (
	twilioPathRe    = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+$`)
	twilioAccountRe = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
)

func (t *Twilio) applyDefaults() {
	setStr(&t.Path, DefaultTwilioPath)
	setStr(&t.Auth, DefaultTwilioAuth)
	setInt(&t.MaxMessageBytes, DefaultTwilioMaxMessage)
	setInt(&t.MaxStreamsPerPrincipal, DefaultTwilioMaxStreams)
	setInt(&t.IdleTimeout, DefaultTwilioIdleTimeout)
	setStr(&t.Direction, DefaultTwilioDirection)
}

func (t *Twilio) validate() error {
	if t.Disabled {
		return nil
	}
	pub, err := url.Parse(t.PublicURL)
	checks := []struct {
		ok    bool
		field string
		value any
		msg   string
	}{
		{twilioPathRe.MatchString(t.Path) && !strings.HasPrefix(t.Path, "/api/"), "twilio.path", t.Path, "must be an absolute path of letters, digits, . _ ~ - outside /api/"},
		{oneOf(t.Auth, "signature", "bearer"), "twilio.auth", t.Auth, "must be signature or bearer"},
		{t.Auth != "signature" || t.AuthTokenFile != "", "twilio.authTokenFile", t.AuthTokenFile, "is required with auth signature"},
		{t.AccountSid == "" || twilioAccountRe.MatchString(t.AccountSid), "twilio.accountSid", t.AccountSid, "must be AC and 32 hex digits, or empty"},
		{t.PublicURL == "" || (err == nil && (pub.Scheme == "wss" || pub.Scheme == "ws") && pub.Host != "" && pub.RawQuery == ""),
			"twilio.publicUrl", t.PublicURL, "must be a ws:// or wss:// URL without query, or empty"},
		{t.MaxMessageBytes >= 1024 && t.MaxMessageBytes <= 1<<20, "twilio.maxMessageBytes", t.MaxMessageBytes, "must be 1KiB-1MiB"},
		{t.MaxStreamsPerPrincipal > 0, "twilio.maxStreamsPerPrincipal", t.MaxStreamsPerPrincipal, "must be positive"},
		{t.IdleTimeout.D() >= 1e9, "twilio.idleTimeout", t.IdleTimeout.D(), "must be at least 1s"},
		{oneOf(t.Direction, "INBOUND", "OUTBOUND"), "twilio.direction", t.Direction, "must be INBOUND or OUTBOUND"},
	}
	for _, ch := range checks {
		if !ch.ok {
			return &FieldError{ch.field, ch.value, ch.msg}
		}
	}
	return nil
}
