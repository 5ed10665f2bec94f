package config

import (
	"fmt"
	"regexp"
	"strings"
)

// AudioHook configures the Genesys AudioHook Monitor endpoint on the API
// listener (docs/audiohook.md). It is on, like Twilio's: upgrades are
// signed with the API key and client secret of an integration made
// through the control plane's API (or, for a gateway without one, listed
// here), so until one exists nothing can connect.
type AudioHook struct {
	Disabled bool `yaml:"disabled"`
	// Path of the WebSocket endpoint; default /audiohook/v1.
	Path         string                 `yaml:"path"`
	Integrations []AudioHookIntegration `yaml:"integrations"`
	// MaxMessageBytes bounds a text message, MaxFrameBytes an audio frame.
	MaxMessageBytes int `yaml:"maxMessageBytes"`
	MaxFrameBytes   int `yaml:"maxFrameBytes"`
	// MaxSessionsPerKey bounds one integration's live sessions.
	MaxSessionsPerKey int `yaml:"maxSessionsPerKey"`
	// IdleTimeout ends a session that sends nothing for this long.
	IdleTimeout Duration `yaml:"idleTimeout"`
	// Direction of calls whose customConfig names none.
	Direction string `yaml:"direction"`
}

// AudioHookIntegration is one integration of the platform: the API key it
// sends and the file holding its client secret (base64, as the platform
// shows it), never the secret itself in the configuration.
type AudioHookIntegration struct {
	Name             string `yaml:"name"`
	APIKey           string `yaml:"apiKey"`
	ClientSecretFile string `yaml:"clientSecretFile"`
	// OrganizationID, when set, is the only organisation it may stream.
	OrganizationID string `yaml:"organizationId"`
}

// AudioHook defaults.
const (
	DefaultAudioHookPath        = "/audiohook/v1"
	DefaultAudioHookMaxMessage  = 64 << 10
	DefaultAudioHookMaxFrame    = 64 << 10
	DefaultAudioHookMaxSessions = 100
	DefaultAudioHookIdleTimeout = Duration(10e9)
)

var audioHookNameRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Enabled reports whether the endpoint is mounted.
func (a *AudioHook) Enabled() bool { return !a.Disabled }

func (a *AudioHook) applyDefaults() {
	setStr(&a.Path, DefaultAudioHookPath)
	setInt(&a.MaxMessageBytes, DefaultAudioHookMaxMessage)
	setInt(&a.MaxFrameBytes, DefaultAudioHookMaxFrame)
	setInt(&a.MaxSessionsPerKey, DefaultAudioHookMaxSessions)
	setInt(&a.IdleTimeout, DefaultAudioHookIdleTimeout)
	setStr(&a.Direction, DefaultTwilioDirection)
}

func (a *AudioHook) validate() error {
	if !a.Enabled() {
		return nil
	}
	checks := []struct {
		ok    bool
		field string
		value any
		msg   string
	}{
		{twilioPathRe.MatchString(a.Path) && !strings.HasPrefix(a.Path, "/api/"), "audiohook.path", a.Path, "must be an absolute path of letters, digits, . _ ~ - outside /api/"},
		{a.MaxMessageBytes >= 1024 && a.MaxMessageBytes <= 1<<20, "audiohook.maxMessageBytes", a.MaxMessageBytes, "must be 1KiB-1MiB"},
		{a.MaxFrameBytes >= 1024 && a.MaxFrameBytes <= 1<<20, "audiohook.maxFrameBytes", a.MaxFrameBytes, "must be 1KiB-1MiB"},
		{a.MaxSessionsPerKey > 0, "audiohook.maxSessionsPerKey", a.MaxSessionsPerKey, "must be positive"},
		{a.IdleTimeout.D() >= 1e9, "audiohook.idleTimeout", a.IdleTimeout.D(), "must be at least 1s"},
		{oneOf(a.Direction, "INBOUND", "OUTBOUND"), "audiohook.direction", a.Direction, "must be INBOUND or OUTBOUND"},
	}
	names := map[string]bool{}
	for i, ig := range a.Integrations {
		f := fmt.Sprintf("audiohook.integrations[%d]", i)
		checks = append(checks, []struct {
			ok    bool
			field string
			value any
			msg   string
		}{
			{audioHookNameRe.MatchString(ig.Name) && !names[ig.Name], f + ".name", ig.Name, "must be 1-64 letters, digits, . _ - and unique"},
			{len(ig.APIKey) >= 8 && len(ig.APIKey) <= 256, f + ".apiKey", "(hidden)", "must be 8-256 characters"},
			{ig.ClientSecretFile != "", f + ".clientSecretFile", ig.ClientSecretFile, "is required"},
		}...)
		names[ig.Name] = true
	}
	for _, ch := range checks {
		if !ch.ok {
			return &FieldError{ch.field, ch.value, ch.msg}
		}
	}
	return nil
}
