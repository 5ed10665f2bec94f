package whip

import (
	"fmt"
	"net/http"
	"strings"
)

// Meta is the call metadata of a WHIP session, matched against the
// recording policies like the fields of a session API request.
type Meta struct {
	CallID    string
	QueueID   string
	Direction string // INBOUND or OUTBOUND
	CallerID  string
	AgentID   string
	// AudioLabel names the first audio track (default "caller"); further
	// audio tracks are "audio-2", "audio-3", ...
	AudioLabel string
}

// metaFields maps each Meta field to its query parameter; the header is
// X-Mediaseal- followed by the header name given here.
var metaFields = []struct {
	query, header string
	field         func(*Meta) *string
}{
	{"callId", "Call-Id", func(m *Meta) *string { return &m.CallID }},
	{"queueId", "Queue-Id", func(m *Meta) *string { return &m.QueueID }},
	{"direction", "Direction", func(m *Meta) *string { return &m.Direction }},
	{"callerId", "Caller-Id", func(m *Meta) *string { return &m.CallerID }},
	{"agentId", "Agent-Id", func(m *Meta) *string { return &m.AgentID }},
	{"audioLabel", "Audio-Label", func(m *Meta) *string { return &m.AudioLabel }},
}

// MetaHeaders lists the request headers ParseMeta reads (for CORS).
func MetaHeaders() []string {
	out := make([]string, len(metaFields))
	for i, f := range metaFields {
		out[i] = headerPrefix + f.header
	}
	return out
}

// ParseMeta reads the call metadata from the query string and the
// X-Mediaseal-* headers. A field may come from either; given in both, the
// values must agree. Values are validated by media.Manager.Create.
func ParseMeta(r *http.Request) (Meta, error) {
	var m Meta
	q := r.URL.Query()
	for _, f := range metaFields {
		qv, hv := q.Get(f.query), r.Header.Get(headerPrefix+f.header)
		if len(q[f.query]) > 1 || len(r.Header.Values(headerPrefix+f.header)) > 1 {
			return Meta{}, fmt.Errorf("%w: %s given more than once", ErrBadMeta, f.query)
		}
		if qv != "" && hv != "" && qv != hv {
			return Meta{}, fmt.Errorf("%w: query %s=%q and header %s%s=%q disagree", ErrBadMeta, f.query, qv, headerPrefix, f.header, hv)
		}
		*f.field(&m) = qv + hv
		if qv != "" && hv != "" {
			*f.field(&m) = qv
		}
	}
	m.Direction = strings.ToUpper(m.Direction)
	if m.AudioLabel == "" {
		m.AudioLabel = defaultAudioLabel
	}
	return m, nil
}
