package config

import "time"

// MediaSource configures how the gateway knows a track's sender (media.*
// keys, inlined into Media). See docs/sessions.md for what each mode
// protects against.
type MediaSource struct {
	// RequireSource refuses (400) a session whose RTP tracks do not declare
	// their sender ("source": "IP" or "IP:port"). Default true: latching
	// the first sender lets any host that reaches the port first inject
	// audio into the recording.
	RequireSource *bool `yaml:"requireSource"`
	// LatchWindow is how long after a session is created the first sender
	// of a track without a source may latch, when RequireSource is false.
	// Once latched the sender is fixed; after the window no one can latch.
	LatchWindow Duration `yaml:"latchWindow"`
	// SRTP is whether tracks must arrive as SRTP: "optional" (default,
	// each track says), "required" (a session with a plain RTP track is
	// refused: 409, SIPREC 488) or "off" (SRTP tracks are refused).
	SRTP string `yaml:"srtp"`
}

// media.srtp values.
const (
	SRTPOptional = "optional"
	SRTPRequired = "required"
	SRTPOff      = "off"
)

// DefaultLatchWindow is media.latchWindow's default.
const DefaultLatchWindow = 2 * time.Second

// maxLatchWindow bounds media.latchWindow: the window is the time a host
// that sends first can claim an undeclared track.
const maxLatchWindow = 10 * time.Second

// SourceRequired reports whether every RTP track must declare its sender.
func (m *MediaSource) SourceRequired() bool { return m.RequireSource == nil || *m.RequireSource }

// Latching is the latch window the media manager runs with: zero (latching
// off) when a source is required.
func (m *MediaSource) Latching() time.Duration {
	if m.SourceRequired() {
		return 0
	}
	return m.LatchWindow.D()
}

func (m *MediaSource) applyDefaults() {
	setInt(&m.LatchWindow, Duration(DefaultLatchWindow))
	setStr(&m.SRTP, SRTPOptional)
}

func (m *MediaSource) validate() error {
	if w := m.LatchWindow.D(); w < 100*time.Millisecond || w > maxLatchWindow {
		return &FieldError{"media.latchWindow", w, "must be between 100ms and 10s"}
	}
	if m.SRTP != SRTPOptional && m.SRTP != SRTPRequired && m.SRTP != SRTPOff {
		return &FieldError{"media.srtp", m.SRTP, "must be required, optional or off"}
	}
	return nil
}
