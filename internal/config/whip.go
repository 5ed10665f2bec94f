package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// WHIP configures WebRTC ingest over WHIP (RFC 9725) at POST /whip.
type WHIP struct {
	// Disabled turns the endpoint off (it is on by default).
	Disabled bool `yaml:"disabled"`
	// ICEServers are used by the gateway's ICE agent and advertised to
	// clients in Link headers.
	ICEServers []ICEServer `yaml:"iceServers"`
	// PostRate (per second, all clients) and PostBurst limit POST /whip.
	PostRate  float64 `yaml:"postRate"`
	PostBurst int     `yaml:"postBurst"`
	// MaxSessions bounds live WHIP sessions (POST beyond it: 503).
	MaxSessions int `yaml:"maxSessions"`
	// UDPPortMin/Max restrict the ICE ports; both 0: ephemeral ports.
	UDPPortMin int `yaml:"udpPortMin"`
	UDPPortMax int `yaml:"udpPortMax"`
	// NAT1To1IPs replace the host candidates' addresses (1:1 NAT).
	NAT1To1IPs []string `yaml:"nat1to1IPs"`
	// IncludeLoopback gathers loopback candidates too.
	IncludeLoopback bool `yaml:"includeLoopback"`
	// AllowOrigins are the CORS origins allowed; default ["*"].
	AllowOrigins []string `yaml:"allowOrigins"`
}

// ICEServer is a STUN or TURN server.
type ICEServer struct {
	URLs       []string `yaml:"urls"`
	Username   string   `yaml:"username"`
	Credential string   `yaml:"credential"`
}

// WHIP defaults.
const (
	DefaultWHIPPostRate    = 20
	DefaultWHIPPostBurst   = 40
	DefaultWHIPMaxSessions = 1000
)

func (w *WHIP) applyDefaults() {
	if w.PostRate == 0 {
		w.PostRate = DefaultWHIPPostRate
	}
	setInt(&w.PostBurst, DefaultWHIPPostBurst)
	setInt(&w.MaxSessions, DefaultWHIPMaxSessions)
	if len(w.AllowOrigins) == 0 {
		w.AllowOrigins = []string{"*"}
	}
}

func (w *WHIP) validate() error {
	checks := []struct {
		ok    bool
		field string
		value any
		msg   string
	}{
		{w.PostRate > 0, "whip.postRate", w.PostRate, "must be positive"},
		{w.PostBurst > 0, "whip.postBurst", w.PostBurst, "must be positive"},
		{w.MaxSessions > 0, "whip.maxSessions", w.MaxSessions, "must be positive"},
		{w.UDPPortMin >= 0 && w.UDPPortMin <= 65535, "whip.udpPortMin", w.UDPPortMin, "must be 0-65535"},
		{(w.UDPPortMin == 0) == (w.UDPPortMax == 0) && w.UDPPortMax >= w.UDPPortMin && w.UDPPortMax <= 65535,
			"whip.udpPortMax", w.UDPPortMax, "must be 0 with udpPortMin 0, else between udpPortMin and 65535"},
	}
	for _, ch := range checks {
		if !ch.ok {
			return &FieldError{ch.field, ch.value, ch.msg}
		}
	}
	for i, ip := range w.NAT1To1IPs {
		if _, err := netip.ParseAddr(ip); err != nil {
			return &FieldError{fmt.Sprintf("whip.nat1to1IPs[%d]", i), ip, "must be an IP address"}
		}
	}
	for i, s := range w.ICEServers {
		f := fmt.Sprintf("whip.iceServers[%d]", i)
		if len(s.URLs) == 0 {
			return &FieldError{f + ".urls", s.URLs, "must list at least one stun:, turn: or turns: URL"}
		}
		for j, u := range s.URLs {
			ok := strings.HasPrefix(u, "stun:") || strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:")
			if !ok || strings.ContainsAny(u, "<>\" \r\n") {
				return &FieldError{fmt.Sprintf("%s.urls[%d]", f, j), u, "must be a stun:, turn: or turns: URL"}
			}
		}
		if strings.ContainsAny(s.Username+s.Credential, "\"\\\r\n") {
			return &FieldError{f + ".credential", "(hidden)", "username and credential must not contain quotes, backslashes or newlines"}
		}
	}
	return nil
}
