package siprec

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"
)

// Parser limits for RFC 7865 metadata.
const (
	maxMetadataBytes = 64 << 10
	maxDepth         = 24
	maxNodes         = 4096
	maxText          = 1024
)

// node is one XML element of the metadata, namespaces dropped.
type node struct {
	name  string
	attrs map[string]string
	text  string
	kids  []*node
}

func (n *node) child(name string) *node {
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

func (n *node) childText(name string) string {
	if c := n.child(name); c != nil {
		return c.text
	}
	return ""
}

// lookup follows a path of local names ("session/extensiondata/queue",
// optionally "…/@attr") below n, trying every branch, and returns the
// first value found.
func (n *node) lookup(path string) (string, bool) {
	elems, attr, hasAttr := strings.Cut(path, "@")
	elems = strings.Trim(elems, "/")
	var segs []string
	if elems != "" {
		segs = strings.Split(elems, "/")
	}
	var walk func(*node, []string) (string, bool)
	walk = func(cur *node, rest []string) (string, bool) {
		if len(rest) == 0 {
			if hasAttr {
				v, ok := cur.attrs[attr]
				return v, ok
			}
			return cur.text, true
		}
		for _, k := range cur.kids {
			if k.name == rest[0] {
				if v, ok := walk(k, rest[1:]); ok {
					return v, true
				}
			}
		}
		return "", false
	}
	return walk(n, segs)
}

// Participant is a party of the communication session (RFC 7865 §6.5).
type Participant struct {
	ID   string
	AoR  string
	Name string
	// Send and Recv are the stream ids this participant sends and receives.
	Send, Recv []string
	node       *node
}

// Stream is a media stream of the recording session (RFC 7865 §6.6); its
// Label matches an SDP a=label.
type Stream struct {
	ID, SessionID, Label string
}

// Metadata is the parsed recording metadata.
type Metadata struct {
	Partial      bool // datamode partial: an update to merge
	SessionIDs   []string
	SIPSessionID string
	Participants []*Participant
	Streams      []*Stream
	root         *node
}

// ParseMetadata parses RFC 7865 metadata. It is bounded (size, depth,
// element count) and rejects what it cannot use with ErrMetadata.
func ParseMetadata(b []byte) (*Metadata, error) {
	if len(b) > maxMetadataBytes {
		return nil, wrap(ErrMetadata, "%d bytes exceeds %d", len(b), maxMetadataBytes)
	}
	root, err := parseTree(b)
	if err != nil {
		return nil, err
	}
	if root.name != "recording" {
		return nil, wrap(ErrMetadata, "root element is <%s>, want <recording>", root.name)
	}
	m := &Metadata{root: root, Partial: strings.TrimSpace(root.childText("datamode")) == "partial"}
	parts := map[string]*Participant{}
	streams := map[string]*Stream{}
	for _, k := range root.kids {
		switch k.name {
		case "session":
			if id := attr(k, "session_id", "id"); id != "" {
				m.SessionIDs = append(m.SessionIDs, id)
			}
			if m.SIPSessionID == "" {
				m.SIPSessionID = k.childText("sipSessionID")
			}
		case "participant":
			id := attr(k, "participant_id", "id")
			if id == "" {
				return nil, wrap(ErrMetadata, "<participant> without participant_id (or the draft schema's id)")
			}
			if parts[id] != nil {
				return nil, wrap(ErrMetadata, "participant %q defined twice", id)
			}
			p := &Participant{ID: id, node: k}
			if n := k.child("nameID"); n != nil {
				p.AoR, p.Name = n.attrs["aor"], n.childText("name")
			} else { // the draft schema: <aor> and <name> of their own
				p.AoR, p.Name = k.childText("aor"), k.childText("name")
			}
			// The draft schema lists a participant's streams inside it
			// rather than in a participantstreamassoc.
			p.addStreams(k)
			parts[id] = p
			m.Participants = append(m.Participants, p)
		case "stream":
			id := attr(k, "stream_id", "id")
			if id == "" {
				return nil, wrap(ErrMetadata, "<stream> without stream_id (or the draft schema's id)")
			}
			if streams[id] != nil {
				return nil, wrap(ErrMetadata, "stream %q defined twice", id)
			}
			s := &Stream{ID: id, SessionID: attr(k, "session_id", "session"), Label: k.childText("label")}
			streams[id] = s
			m.Streams = append(m.Streams, s)
		}
	}
	for _, k := range root.kids {
		if k.name != "participantstreamassoc" {
			continue
		}
		p := parts[k.attrs["participant_id"]]
		if p == nil {
			if m.Partial {
				p = &Participant{ID: k.attrs["participant_id"]} // defined in an earlier snapshot
				parts[p.ID] = p
				m.Participants = append(m.Participants, p)
			} else {
				return nil, wrap(ErrUnknownStream, "participantstreamassoc names unknown participant %q", k.attrs["participant_id"])
			}
		}
		p.addStreams(k)
	}
	if !m.Partial { // a partial update may name streams of an earlier snapshot
		for _, p := range m.Participants {
			for _, id := range slices.Concat(p.Send, p.Recv) {
				if streams[id] == nil {
					return nil, wrap(ErrUnknownStream, "participant %q names unknown stream %q", p.ID, id)
				}
			}
		}
	}
	return m, nil
}

// addStreams appends the streams k's <send> and <recv> children name.
func (p *Participant) addStreams(k *node) {
	for _, c := range k.kids {
		switch c.name {
		case "send":
			p.Send = append(p.Send, c.text)
		case "recv":
			p.Recv = append(p.Recv, c.text)
		}
	}
}

// attr is the first of names that n carries: RFC 7865 names ids
// participant_id, stream_id and session_id; the pre-RFC draft schema that
// deployed SBCs still send names them id (and a stream's session
// "session").
func attr(n *node, names ...string) string {
	for _, name := range names {
		if v := n.attrs[name]; v != "" {
			return v
		}
	}
	return ""
}

func parseTree(b []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	var stack []*node
	var root *node
	count := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, wrap(ErrMetadata, "%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if count++; count > maxNodes {
				return nil, wrap(ErrMetadata, "more than %d elements", maxNodes)
			}
			if len(stack) >= maxDepth {
				return nil, wrap(ErrMetadata, "nested deeper than %d", maxDepth)
			}
			n := &node{name: t.Name.Local, attrs: map[string]string{}}
			for _, a := range t.Attr {
				if a.Name.Space != "xmlns" && a.Name.Local != "xmlns" {
					n.attrs[a.Name.Local] = a.Value
				}
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, wrap(ErrMetadata, "more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			n := stack[len(stack)-1]
			n.text = strings.TrimSpace(n.text)
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				n := stack[len(stack)-1]
				if len(n.text)+len(t) > maxText {
					return nil, wrap(ErrMetadata, "text of <%s> longer than %d", n.name, maxText)
				}
				n.text += string(t)
			}
		case xml.Directive:
			return nil, wrap(ErrMetadata, "DTDs and directives are not accepted")
		}
	}
	if root == nil {
		return nil, wrap(ErrMetadata, "no root element")
	}
	return root, nil
}

// StreamByLabel returns the metadata stream with an SDP label.
func (m *Metadata) StreamByLabel(label string) *Stream {
	for _, s := range m.Streams {
		if s.Label == label {
			return s
		}
	}
	return nil
}

// Sender returns the participant that sends stream id.
func (m *Metadata) Sender(streamID string) *Participant {
	for _, p := range m.Participants {
		for _, s := range p.Send {
			if s == streamID {
				return p
			}
		}
	}
	return nil
}

// Lookup returns the value at a mapping path below <recording>.
func (m *Metadata) Lookup(path string) string {
	if path == "" || m.root == nil {
		return ""
	}
	v, _ := m.root.lookup(path)
	return v
}

// Role returns the value at a mapping path below the participant.
func (p *Participant) Role(path string) string {
	if path == "" || p.node == nil {
		return ""
	}
	v, _ := p.node.lookup(path)
	return v
}

// Merge applies an update: a complete snapshot replaces m, a partial one
// adds or replaces participants and streams by id and replaces the
// associations of the participants it names.
func (m *Metadata) Merge(u *Metadata) *Metadata {
	if !u.Partial {
		return u
	}
	out := *m
	out.Participants = append([]*Participant(nil), m.Participants...)
	out.Streams = append([]*Stream(nil), m.Streams...)
	for _, up := range u.Participants {
		replaced := false
		for i, p := range out.Participants {
			if p.ID == up.ID {
				np := *up
				if np.node == nil {
					np.node, np.AoR, np.Name = p.node, p.AoR, p.Name
				}
				if np.Send == nil && np.Recv == nil { // no new association: keep the streams
					np.Send, np.Recv = p.Send, p.Recv
				}
				out.Participants[i], replaced = &np, true
			}
		}
		if !replaced {
			out.Participants = append(out.Participants, up)
		}
	}
	for _, us := range u.Streams {
		replaced := false
		for i, s := range out.Streams {
			if s.ID == us.ID {
				out.Streams[i], replaced = us, true
			}
		}
		if !replaced {
			out.Streams = append(out.Streams, us)
		}
	}
	return &out
}
