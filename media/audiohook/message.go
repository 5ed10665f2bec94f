package audiohook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// MaxMessageBytes bounds one text message; AudioHook messages are small,
// so anything larger is refused before it is decoded.
const MaxMessageBytes = 64 << 10

// Version is the only protocol version the server speaks.
const Version = "2"

// Message is one AudioHook text message. Parameters stays raw so each
// message type decodes only the fields it defines.
type Message struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Seq        int64           `json:"seq"`
	ClientSeq  int64           `json:"clientseq,omitempty"`
	ServerSeq  int64           `json:"serverseq,omitempty"`
	Position   string          `json:"position,omitempty"`
	Parameters json.RawMessage `json:"parameters"`
}

// clientTypes are the message types a client may send; any other type is
// a protocol error, so an unknown type never reaches the state machine.
var clientTypes = map[string]bool{
	"open": true, "ping": true, "pause": true, "resume": true, "update": true,
	"discarded": true, "error": true, "close": true, "paused": true, "resumed": true,
	"dtmf": true, "playback_started": true, "playback_completed": true,
}

// ErrMalformed marks every parse failure so callers can count them.
var ErrMalformed = errors.New("audiohook: malformed message")

// Parse decodes one client message strictly: unknown fields, trailing
// data, a wrong version, a missing id, a non-positive seq or an unknown
// type are refused.
func Parse(b []byte) (Message, error) {
	var m Message
	if len(b) > MaxMessageBytes {
		return m, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(b), MaxMessageBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return Message{}, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	switch {
	case m.Version != Version:
		return Message{}, fmt.Errorf("%w: version %q", ErrMalformed, m.Version)
	case m.ID == "":
		return Message{}, fmt.Errorf("%w: empty id", ErrMalformed)
	case m.Seq < 1:
		return Message{}, fmt.Errorf("%w: seq %d", ErrMalformed, m.Seq)
	case m.ServerSeq < 0 || m.ClientSeq < 0:
		return Message{}, fmt.Errorf("%w: negative sequence", ErrMalformed)
	case !clientTypes[m.Type]:
		return Message{}, fmt.Errorf("%w: type %q", ErrMalformed, m.Type)
	case len(m.Parameters) == 0 || m.Parameters[0] != '{':
		return Message{}, fmt.Errorf("%w: parameters must be an object", ErrMalformed)
	}
	return m, nil
}
