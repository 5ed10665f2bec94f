package whip

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// Defaults used when a Config field is zero.
const (
	DefaultPostRate     = 20 // POSTs per second, all clients together
	DefaultPostBurst    = 40
	DefaultMaxSessions  = 1000
	DefaultMaxBody      = 128 << 10
	DefaultGatherTime   = 5 * time.Second
	DefaultRetryAfter   = 5 * time.Second
	maxFragLines        = 512
	pliInterval         = time.Second
	defaultAudioLabel   = "caller"
	defaultVideoLabel   = "video"
	contentTypeSDP      = "application/sdp"
	contentTypeSDPFrag  = "application/trickle-ice-sdpfrag"
	headerPrefix        = "X-Mediaseal-"
	receiveBufferLength = 1600
)

// ICEServer is a STUN or TURN server advertised to clients in Link headers
// (RFC 9725 §4.6) and used by the gateway's own ICE agent.
type ICEServer struct {
	URLs       []string
	Username   string
	Credential string
}

// Config configures a [Server].
type Config struct {
	// ICEServers are advertised in the 201 response's Link headers.
	ICEServers []ICEServer
	// PostRate and PostBurst limit POST /whip (token bucket over all
	// clients); zero means the defaults.
	PostRate  rate.Limit
	PostBurst int
	// MaxSessions bounds live WHIP sessions; beyond it POST gets 503.
	MaxSessions int
	// MaxBody bounds offer and fragment bodies.
	MaxBody int64
	// UDPPortMin/Max restrict the ICE host candidates' ports (both zero:
	// any ephemeral port).
	UDPPortMin, UDPPortMax uint16
	// NAT1To1IPs replace the host candidates' addresses (a gateway behind
	// 1:1 NAT); empty means the interfaces' own addresses.
	NAT1To1IPs []string
	// IncludeLoopback also gathers loopback candidates (tests, a media
	// server on the same host).
	IncludeLoopback bool
	// AllowOrigins lists the CORS origins allowed; "*" (the default when
	// empty) allows any, which is safe because authorization is a bearer
	// token, never a cookie.
	AllowOrigins []string
	// GatherTimeout bounds ICE gathering before the answer is sent.
	GatherTimeout time.Duration
	// RetryAfter is sent with 503 and 429.
	RetryAfter time.Duration
	Logger     *zap.Logger
}

func (c *Config) setDefaults() error {
	if c.PostRate == 0 {
		c.PostRate = DefaultPostRate
	}
	if c.PostBurst == 0 {
		c.PostBurst = DefaultPostBurst
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.MaxBody == 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.GatherTimeout == 0 {
		c.GatherTimeout = DefaultGatherTime
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = DefaultRetryAfter
	}
	if len(c.AllowOrigins) == 0 {
		c.AllowOrigins = []string{"*"}
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	switch {
	case c.PostRate < 0 || c.PostBurst < 0:
		return fmt.Errorf("%w: post rate %v burst %d", ErrConfig, c.PostRate, c.PostBurst)
	case c.MaxSessions < 0:
		return fmt.Errorf("%w: maxSessions %d", ErrConfig, c.MaxSessions)
	case (c.UDPPortMin == 0) != (c.UDPPortMax == 0) || c.UDPPortMax < c.UDPPortMin:
		return fmt.Errorf("%w: UDP port range %d-%d", ErrConfig, c.UDPPortMin, c.UDPPortMax)
	}
	for _, ip := range c.NAT1To1IPs {
		if _, err := netip.ParseAddr(ip); err != nil {
			return fmt.Errorf("%w: NAT 1:1 IP %q", ErrConfig, ip)
		}
	}
	for _, s := range c.ICEServers {
		if len(s.URLs) == 0 {
			return fmt.Errorf("%w: ICE server without URLs", ErrConfig)
		}
		for _, u := range s.URLs {
			if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
				return fmt.Errorf("%w: ICE server URL %q (want stun:, turn: or turns:)", ErrConfig, u)
			}
			if strings.ContainsAny(u, "<>\"\r\n") {
				return fmt.Errorf("%w: ICE server URL %q", ErrConfig, u)
			}
		}
		if strings.ContainsAny(s.Username+s.Credential, "\"\\\r\n") {
			return fmt.Errorf("%w: ICE server credentials contain a quote, backslash or newline", ErrConfig)
		}
	}
	return nil
}
