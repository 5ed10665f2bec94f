package twilio

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/mediaseal/mediaseal/httpx/strictjson"
)

// Events Twilio sends (Media Streams "WebSocket messages from Twilio").
const (
	EventConnected = "connected"
	EventStart     = "start"
	EventMedia     = "media"
	EventDTMF      = "dtmf"
	EventMark      = "mark"
	EventStop      = "stop"
)

// Tracks of a stream.
const (
	TrackInbound  = "inbound"  // what the caller says: the caller track
	TrackOutbound = "outbound" // what Twilio plays or the agent says: the agent track
)

// The one media format Twilio streams.
const (
	Encoding   = "audio/x-mulaw"
	SampleRate = 8000
	Channels   = 1
)

// Parser bounds. A chunk of Twilio's is 20 ms (160 bytes); a payload of
// a second is far beyond anything Twilio sends but still small.
const (
	MaxPayload     = SampleRate       // bytes of μ-law in one media message
	maxTimestampMS = 7 * 24 * 3600000 // a week: no call lasts longer
	maxParams      = 32
	maxParamKey    = 64
	maxParamValue  = 256
	maxName        = 256
)

// Errors a message is refused with; each is wrapped with the detail.
var (
	// ErrMalformed: not a message of the documented shape.
	ErrMalformed = errors.New("twilio: malformed message")
	// ErrUnknownEvent: an event Twilio does not document.
	ErrUnknownEvent = errors.New("twilio: unknown event")
	// ErrFormat: a start whose media format cannot be recorded.
	ErrFormat = errors.New("twilio: unsupported media format")
)

// Message is one parsed message. Exactly the member of its Event is set;
// Seq is the parsed sequenceNumber (0 for connected, which has none).
type Message struct {
	Event    string
	Seq      int64
	Protocol string // connected
	Version  string // connected
	Stream   string // streamSid (every event but connected)
	Start    *Start
	Media    *Media
	DTMF     *DTMF
	Mark     string // mark.name
	Stop     *Stop
}

// Start describes the stream and the call.
type Start struct {
	AccountSid string
	CallSid    string
	Tracks     []string // TrackInbound and/or TrackOutbound
	// Params are the <Parameter> elements of the <Stream>.
	Params map[string]string
}

// Media is one chunk of μ-law audio.
type Media struct {
	Track       string // TrackInbound or TrackOutbound
	Chunk       int64  // 1, 2, ... per track
	TimestampMS int64  // since the stream started
	Audio       []byte // μ-law, decoded from base64
}

// DTMF is a key pressed on a track.
type DTMF struct {
	Track string // TrackInbound or TrackOutbound
	Digit string
}

// Stop ends the stream.
type Stop struct {
	AccountSid string
	CallSid    string
}

// wire is the JSON as Twilio writes it: numbers in strings.
type wire struct {
	Event          string `json:"event"`
	SequenceNumber string `json:"sequenceNumber"`
	StreamSid      string `json:"streamSid"`
	Protocol       string `json:"protocol"`
	Version        string `json:"version"`
	Start          *struct {
		AccountSid       string            `json:"accountSid"`
		StreamSid        string            `json:"streamSid"`
		CallSid          string            `json:"callSid"`
		Tracks           []string          `json:"tracks"`
		CustomParameters map[string]string `json:"customParameters"`
		MediaFormat      struct {
			Encoding   string `json:"encoding"`
			SampleRate int    `json:"sampleRate"`
			Channels   int    `json:"channels"`
		} `json:"mediaFormat"`
	} `json:"start"`
	Media *struct {
		Track     string `json:"track"`
		Chunk     string `json:"chunk"`
		Timestamp string `json:"timestamp"`
		Payload   string `json:"payload"`
	} `json:"media"`
	DTMF *struct {
		Track string `json:"track"`
		Digit string `json:"digit"`
	} `json:"dtmf"`
	Mark *struct {
		Name string `json:"name"`
	} `json:"mark"`
	Stop *struct {
		AccountSid string `json:"accountSid"`
		CallSid    string `json:"callSid"`
	} `json:"stop"`
}

func malformed(field, format string, a ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, field, fmt.Sprintf(format, a...))
}

// Parse parses one text message. Beyond the types it checks what the
// session depends on: the event's own member is present and no other, the
// SIDs have Twilio's form, numbers are decimal and in range, the payload
// is base64 of at most MaxPayload bytes. A body two JSON readers could
// read differently (a repeated key) is refused.
func Parse(b []byte) (Message, error) {
	if err := strictjson.Check(b); err != nil {
		return Message{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return Message{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	members := 0
	for _, set := range []bool{w.Start != nil, w.Media != nil, w.DTMF != nil, w.Mark != nil, w.Stop != nil} {
		if set {
			members++
		}
	}
	m := Message{Event: w.Event}
	if w.Event == EventConnected {
		if members != 0 || w.SequenceNumber != "" || w.StreamSid != "" {
			return Message{}, malformed("connected", "carries stream fields")
		}
		if w.Protocol == "" || len(w.Protocol) > maxName || len(w.Version) > maxName {
			return Message{}, malformed("protocol", "must be 1-%d characters", maxName)
		}
		m.Protocol, m.Version = w.Protocol, w.Version
		return m, nil
	}
	switch w.Event {
	case EventStart, EventMedia, EventDTMF, EventMark, EventStop:
	default:
		return Message{}, fmt.Errorf("%w: %.64q", ErrUnknownEvent, w.Event)
	}
	var err error
	if m.Seq, err = decimal("sequenceNumber", w.SequenceNumber, 1, 1<<53); err != nil {
		return Message{}, err
	}
	if !isSid(w.StreamSid, "MZ") {
		return Message{}, malformed("streamSid", "must be MZ and 32 hex digits (got %.64q)", w.StreamSid)
	}
	m.Stream = w.StreamSid
	if members != 1 {
		return Message{}, malformed(w.Event, "needs its own member %q and no other", w.Event)
	}
	switch w.Event {
	case EventStart:
		if w.Start == nil {
			break
		}
		m.Start, err = parseStart(&w)
	case EventMedia:
		if w.Media == nil {
			break
		}
		m.Media, err = parseMedia(w.Media.Track, w.Media.Chunk, w.Media.Timestamp, w.Media.Payload)
	case EventDTMF:
		if w.DTMF == nil {
			break
		}
		m.DTMF, err = parseDTMF(w.DTMF.Track, w.DTMF.Digit)
	case EventMark:
		if w.Mark == nil {
			break
		}
		if w.Mark.Name == "" || len(w.Mark.Name) > maxName {
			return Message{}, malformed("mark.name", "must be 1-%d characters", maxName)
		}
		m.Mark = w.Mark.Name
	case EventStop:
		if w.Stop == nil {
			break
		}
		if !isSid(w.Stop.AccountSid, "AC") || !isSid(w.Stop.CallSid, "CA") {
			return Message{}, malformed("stop", "accountSid and callSid must be Twilio SIDs")
		}
		m.Stop = &Stop{AccountSid: w.Stop.AccountSid, CallSid: w.Stop.CallSid}
	}
	if err != nil {
		return Message{}, err
	}
	if m.Start == nil && m.Media == nil && m.DTMF == nil && m.Mark == "" && m.Stop == nil {
		return Message{}, malformed(w.Event, "member %q missing", w.Event)
	}
	return m, nil
}

func parseStart(w *wire) (*Start, error) {
	s := w.Start
	switch {
	case s.StreamSid != w.StreamSid:
		return nil, malformed("start.streamSid", "differs from streamSid")
	case !isSid(s.AccountSid, "AC"):
		return nil, malformed("start.accountSid", "must be AC and 32 hex digits (got %.64q)", s.AccountSid)
	case !isSid(s.CallSid, "CA"):
		return nil, malformed("start.callSid", "must be CA and 32 hex digits (got %.64q)", s.CallSid)
	case len(s.Tracks) == 0 || len(s.Tracks) > 2:
		return nil, malformed("start.tracks", "must list inbound, outbound or both (got %d tracks)", len(s.Tracks))
	case len(s.CustomParameters) > maxParams:
		return nil, malformed("start.customParameters", "at most %d (got %d)", maxParams, len(s.CustomParameters))
	}
	f := s.MediaFormat
	if f.Encoding != Encoding || f.SampleRate != SampleRate || f.Channels != Channels {
		return nil, fmt.Errorf("%w: %.64q at %d Hz, %d channels: only %s at %d Hz mono is recorded",
			ErrFormat, f.Encoding, f.SampleRate, f.Channels, Encoding, SampleRate)
	}
	seen := map[string]bool{}
	for _, t := range s.Tracks {
		if (t != TrackInbound && t != TrackOutbound) || seen[t] {
			return nil, malformed("start.tracks", "must be distinct inbound/outbound (got %.64q)", t)
		}
		seen[t] = true
	}
	for k, v := range s.CustomParameters {
		if k == "" || len(k) > maxParamKey || len(v) > maxParamValue {
			return nil, malformed("start.customParameters", "keys 1-%d, values at most %d characters (key %.64q)", maxParamKey, maxParamValue, k)
		}
	}
	return &Start{AccountSid: s.AccountSid, CallSid: s.CallSid, Tracks: s.Tracks, Params: s.CustomParameters}, nil
}

func parseMedia(track, chunk, ts, payload string) (*Media, error) {
	if track != TrackInbound && track != TrackOutbound {
		return nil, malformed("media.track", "must be inbound or outbound (got %.64q)", track)
	}
	c, err := decimal("media.chunk", chunk, 1, 1<<53)
	if err != nil {
		return nil, err
	}
	t, err := decimal("media.timestamp", ts, 0, maxTimestampMS)
	if err != nil {
		return nil, err
	}
	if payload == "" || base64.StdEncoding.DecodedLen(len(payload)) > MaxPayload+2 {
		return nil, malformed("media.payload", "must be base64 of 1-%d bytes (got %d characters)", MaxPayload, len(payload))
	}
	audio, err := base64.StdEncoding.DecodeString(payload)
	if err != nil || len(audio) == 0 || len(audio) > MaxPayload {
		return nil, malformed("media.payload", "must be base64 of 1-%d bytes", MaxPayload)
	}
	return &Media{Track: track, Chunk: c, TimestampMS: t, Audio: audio}, nil
}

// parseDTMF accepts the track as documented ("inbound_track") and bare.
func parseDTMF(track, digit string) (*DTMF, error) {
	switch track {
	case "inbound_track", TrackInbound:
		track = TrackInbound
	case "outbound_track", TrackOutbound:
		track = TrackOutbound
	default:
		return nil, malformed("dtmf.track", "must be inbound_track or outbound_track (got %.64q)", track)
	}
	if len(digit) != 1 || !isDigit(digit[0]) {
		return nil, malformed("dtmf.digit", "must be one of 0-9 * # A-D (got %.16q)", digit)
	}
	return &DTMF{Track: track, Digit: digit}, nil
}

func isDigit(c byte) bool {
	return ('0' <= c && c <= '9') || c == '*' || c == '#' || ('A' <= c && c <= 'D')
}

// decimal parses a number Twilio sends as a string of digits.
func decimal(field, s string, lo, hi int64) (int64, error) {
	if s == "" || len(s) > 16 {
		return 0, malformed(field, "must be a decimal number (got %.20q)", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, malformed(field, "must be a decimal number (got %.20q)", s)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, malformed(field, "must be %d-%d (got %.20q)", lo, hi, s)
	}
	return n, nil
}

// isSid reports whether s is a Twilio SID: a two-letter prefix and 32
// hex digits.
func isSid(s, prefix string) bool {
	if len(s) != 34 || s[:2] != prefix {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9') && !('a' <= c && c <= 'f') && !('A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
