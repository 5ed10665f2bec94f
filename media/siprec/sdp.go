package siprec

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/mediaseal/mediaseal/media/srtp"
)

// Direction attributes of an SDP media line.
const (
	dirSendRecv = "sendrecv"
	dirSendOnly = "sendonly"
	dirRecvOnly = "recvonly"
	dirInactive = "inactive"
)

const maxMediaLines = 16

// maxCrypto bounds the a=crypto lines read per media line.
const maxCrypto = 8

// MediaLine is one m= line of an offer.
type MediaLine struct {
	Kind      string // audio, video, ...
	Port      int
	Proto     string
	Formats   []string
	Label     string
	Direction string
	// Conn is the line's c= address (zero: none, or not an IP address).
	Conn   netip.Addr
	rtpmap map[string]string // pt -> "name/rate[/channels]"
	fmtp   map[string]string
	// crypto holds the line's a=crypto values (SDES, RFC 4568), in the
	// offerer's order of preference.
	crypto []string
}

// Inactive reports whether the stream is paused by the SRC (RFC 7866
// §7.1.2): a=inactive or port 0.
func (m *MediaLine) Inactive() bool { return m.Direction == dirInactive || m.Port == 0 }

// Offer is a parsed SDP offer.
type Offer struct {
	Media []*MediaLine
	// Conn is the session-level c= address (zero: none, or not an IP).
	Conn netip.Addr
}

// source is the sender the track of ml declares to the media manager: the
// line's connection address, else the session's (RFC 8866 §5.7), host
// only — an SRC's RTP leaves from the address it receives on (symmetric
// RTP) but not always from the m= port. "" when the offer names no usable
// address (0.0.0.0 is RFC 2543 hold, a name is not resolved here).
func (o *Offer) source(ml *MediaLine) string {
	a := o.Conn
	if ml != nil && ml.Conn.IsValid() {
		a = ml.Conn
	}
	if !a.IsValid() || a.IsUnspecified() {
		return ""
	}
	return a.String()
}

// parseConn parses a c= value ("IN IP4 192.0.2.1", "IN IP6 2001:db8::1",
// an IPv4 multicast "/ttl" suffix ignored). Anything else, an FQDN
// included, gives the zero address: no declared sender.
func parseConn(v string) netip.Addr {
	f := strings.Fields(v)
	if len(f) != 3 || f[0] != "IN" || (f[1] != "IP4" && f[1] != "IP6") {
		return netip.Addr{}
	}
	host, _, _ := strings.Cut(f[2], "/")
	a, err := netip.ParseAddr(host)
	if err != nil || a.Is4() != (f[1] == "IP4") {
		return netip.Addr{}
	}
	return a.Unmap()
}

// ParseSDP parses the parts of an SDP offer (RFC 8866) the SRS needs.
func ParseSDP(b []byte) (*Offer, error) {
	o := &Offer{}
	sessDir := dirSendRecv
	var cur *MediaLine
	sawV := false
	for i, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		line = strings.TrimRight(line, "\r ")
		if line == "" {
			continue
		}
		if len(line) < 2 || line[1] != '=' {
			return nil, wrap(ErrSDP, "line %d: %q is not type=value", i+1, trunc(line))
		}
		// A CR (or NUL) inside a line is not SDP (RFC 8866 §5: lines end
		// with CRLF, values hold no CR/LF/NUL). Accepting it would let an
		// offer smuggle a line into the answer, which echoes rtpmap values.
		if strings.ContainsAny(line, "\r\x00") {
			return nil, wrap(ErrSDP, "line %d: control character in %q", i+1, trunc(line))
		}
		typ, val := line[0], line[2:]
		if !sawV {
			if typ != 'v' || val != "0" {
				return nil, wrap(ErrSDP, "must start with v=0")
			}
			sawV = true
			continue
		}
		switch typ {
		case 'm':
			if len(o.Media) == maxMediaLines {
				return nil, wrap(ErrSDP, "more than %d media lines", maxMediaLines)
			}
			f := strings.Fields(val)
			if len(f) < 4 {
				return nil, wrap(ErrSDP, "line %d: m= needs media, port, proto and formats", i+1)
			}
			port, err := strconv.Atoi(strings.SplitN(f[1], "/", 2)[0])
			if err != nil || port < 0 || port > 65535 {
				return nil, wrap(ErrSDP, "line %d: bad port %q", i+1, trunc(f[1]))
			}
			cur = &MediaLine{Kind: f[0], Port: port, Proto: f[2], Formats: f[3:], Direction: "",
				rtpmap: map[string]string{}, fmtp: map[string]string{}}
			o.Media = append(o.Media, cur)
		case 'c':
			if cur == nil {
				o.Conn = parseConn(val)
			} else {
				cur.Conn = parseConn(val)
			}
		case 'a':
			name, v, _ := strings.Cut(val, ":")
			switch name {
			case dirSendRecv, dirSendOnly, dirRecvOnly, dirInactive:
				if cur == nil {
					sessDir = name
				} else {
					cur.Direction = name
				}
			case "label":
				if cur != nil {
					cur.Label = strings.TrimSpace(v)
				}
			case "crypto":
				if cur != nil && len(cur.crypto) < maxCrypto {
					cur.crypto = append(cur.crypto, strings.TrimSpace(v))
				}
			case "rtpmap", "fmtp":
				if cur == nil {
					continue
				}
				pt, rest, ok := strings.Cut(v, " ")
				if !ok {
					return nil, wrap(ErrSDP, "line %d: a=%s needs a payload type and a value", i+1, name)
				}
				if name == "rtpmap" {
					cur.rtpmap[pt] = strings.TrimSpace(rest)
				} else {
					cur.fmtp[pt] = strings.TrimSpace(rest)
				}
			}
		}
	}
	if !sawV {
		return nil, wrap(ErrSDP, "empty")
	}
	for _, m := range o.Media {
		if m.Direction == "" {
			m.Direction = sessDir
		}
	}
	return o, nil
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// codec is a negotiated codec of a media line.
type codec struct {
	Name      string // media package codec name: PCMU, PCMA, G722, opus
	PT        uint8
	Rate      uint32
	DTMF      *uint8 // telephone-event payload type, when offered
	dtmfRate  uint32
	dtmfFmtp  string
	rtpmapStr string
}

// static payload types of RFC 3551 the recorder decodes.
var staticCodecs = map[string]codec{
	"0": {Name: "PCMU", PT: 0, Rate: 8000, rtpmapStr: "PCMU/8000"},
	"8": {Name: "PCMA", PT: 8, Rate: 8000, rtpmapStr: "PCMA/8000"},
	"9": {Name: "G722", PT: 9, Rate: 8000, rtpmapStr: "G722/8000"},
}

// plainRTP reports whether the line's profile is unencrypted RTP.
func (m *MediaLine) plainRTP() bool {
	return strings.EqualFold(m.Proto, "RTP/AVP") || strings.EqualFold(m.Proto, "RTP/AVPF")
}

// srtp reports whether the line offers an SRTP profile. Its packets are
// ciphertext the recorder must never store as if they were audio: they
// are recorded only decrypted, under an SDES key (sdes), and any other
// SRTP line (DTLS-SRTP, UDP/TLS/RTP/SAVP) is declined.
func (m *MediaLine) srtp() bool { return strings.Contains(strings.ToUpper(m.Proto), "SAVP") }

// sdes reports whether the line is SDES-keyed SRTP: RTP/SAVP or RTP/SAVPF.
func (m *MediaLine) sdes() bool {
	return strings.EqualFold(m.Proto, "RTP/SAVP") || strings.EqualFold(m.Proto, "RTP/SAVPF")
}

// pickCrypto is the first a=crypto of the line this SRS can receive (RFC
// 4568 §7.1.2: the answerer accepts one of the offered attributes): its
// value, which keys the sender's packets, and its tag and suite for the
// answer. ok is false when none is usable.
func (m *MediaLine) pickCrypto() (value string, tag uint32, suite srtp.Suite, ok bool) {
	for _, v := range m.crypto {
		c, more, err := srtp.ParseCrypto(v)
		clear(c.Key)
		for _, x := range more {
			clear(x.Key)
		}
		if err == nil {
			return v, c.Tag, c.Suite, true
		}
	}
	return "", 0, "", false
}

// pickCodec chooses the first offered audio codec the recorder takes and
// the telephone-event payload type, if any.
func (m *MediaLine) pickCodec() (codec, bool) {
	if m.Kind != "audio" || !(m.plainRTP() || m.sdes()) {
		return codec{}, false
	}
	var c codec
	found := false
	for _, f := range m.Formats {
		pt, err := strconv.Atoi(f)
		if err != nil || pt < 0 || pt > 127 {
			continue
		}
		enc := m.rtpmap[f]
		name, rate, _ := strings.Cut(enc, "/")
		rate, _, _ = strings.Cut(rate, "/")
		r, _ := strconv.Atoi(rate)
		if strings.EqualFold(name, "telephone-event") {
			if c.DTMF == nil {
				p := uint8(pt)
				c.DTMF, c.dtmfRate, c.dtmfFmtp = &p, uint32(max(r, 0)), m.fmtp[f]
			}
			continue
		}
		if found {
			continue
		}
		if sc, ok := staticCodecs[f]; ok && (enc == "" || strings.EqualFold(name, sc.Name)) {
			c.Name, c.PT, c.Rate, c.rtpmapStr, found = sc.Name, sc.PT, sc.Rate, sc.rtpmapStr, true
			continue
		}
		if strings.EqualFold(name, "opus") && r == 48000 {
			c.Name, c.PT, c.Rate, c.rtpmapStr, found = "opus", uint8(pt), 48000, enc, true
		}
	}
	if c.DTMF != nil && c.dtmfRate == 0 {
		c.dtmfRate = 8000
	}
	return c, found
}

// answerLine is one m= line of the answer.
type answerLine struct {
	kind, proto string
	port        int // 0: stream declined
	codec       codec
	label       string
	direction   string
	crypto      string // the SRS's own a=crypto value for an SRTP line
}

// buildAnswer renders a recvonly SDP answer (RFC 7866 §8.1.1).
func buildAnswer(addr netip.Addr, sessID, version uint64, lines []answerLine) []byte {
	ipv := "IP4"
	if addr.Is6() && !addr.Is4In6() {
		ipv = "IP6"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=mediaseal %d %d IN %s %s\r\ns=mediaseal SRS\r\nc=IN %s %s\r\nt=0 0\r\n",
		sessID, version, ipv, addr.Unmap(), ipv, addr.Unmap())
	for _, l := range lines {
		if l.port == 0 {
			proto := l.proto
			if proto == "" {
				proto = "RTP/AVP"
			}
			fmt.Fprintf(&b, "m=%s 0 %s 0\r\n", l.kind, proto)
			if l.label != "" {
				fmt.Fprintf(&b, "a=label:%s\r\n", l.label)
			}
			continue
		}
		fmts := strconv.Itoa(int(l.codec.PT))
		if l.codec.DTMF != nil {
			fmts += " " + strconv.Itoa(int(*l.codec.DTMF))
		}
		fmt.Fprintf(&b, "m=%s %d %s %s\r\n", l.kind, l.port, l.proto, fmts)
		fmt.Fprintf(&b, "a=rtpmap:%d %s\r\n", l.codec.PT, l.codec.rtpmapStr)
		if l.codec.DTMF != nil {
			fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/%d\r\n", *l.codec.DTMF, l.codec.dtmfRate)
			if l.codec.dtmfFmtp != "" {
				fmt.Fprintf(&b, "a=fmtp:%d %s\r\n", *l.codec.DTMF, l.codec.dtmfFmtp)
			}
		}
		if l.crypto != "" {
			fmt.Fprintf(&b, "a=crypto:%s\r\n", l.crypto)
		}
		fmt.Fprintf(&b, "a=label:%s\r\na=%s\r\n", l.label, l.direction)
	}
	return []byte(b.String())
}
