package config

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// SIPREC configures the SIPREC Session Recording Server (RFC 7866): SIP
// listeners, who may send recordings, and how RFC 7865 metadata maps to
// the call attributes that policies match on.
type SIPREC struct {
	Enabled bool           `yaml:"enabled"`
	Listen  []SIPListen    `yaml:"listen"`
	TLS     SIPTLS         `yaml:"tls"`
	Auth    SIPAuth        `yaml:"auth"`
	Mapping SIPRECMetadata `yaml:"metadata"`
	// SDESOverPlainSIP takes SDES-SRTP keys from offers sent over UDP or
	// TCP (default off: only over TLS, where the path cannot read them).
	SDESOverPlainSIP bool `yaml:"sdesOverPlainSip"`
}

// SIPListen is one SIP listener.
type SIPListen struct {
	Transport string `yaml:"transport"` // udp, tcp or tls
	Addr      string `yaml:"addr"`      // HOST:PORT
}

// SIPTLS holds the certificate of tls listeners.
type SIPTLS struct {
	CertFile string `yaml:"certFile"`
	KeyFile  string `yaml:"keyFile"`
}

// SIPAuth says which recording clients (SRCs) are accepted: sources in
// AllowFrom (empty: any) and, when Users is set, only after digest
// authentication (RFC 3261 §22) as one of them.
type SIPAuth struct {
	AllowFrom []string  `yaml:"allowFrom"` // IP addresses or CIDR prefixes
	Realm     string    `yaml:"realm"`
	Users     []SIPUser `yaml:"users"`
}

// SIPUser is one digest credential.
type SIPUser struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// SIPRECMetadata maps RFC 7865 metadata to call attributes. Each value is
// a path of element local names below <recording> ("session/extensiondata/
// queue"), optionally ending in "@attribute"; namespaces are ignored.
// ParticipantRole is relative to each <participant> and yields "caller" or
// "agent"; without it participants are caller, agent in document order.
type SIPRECMetadata struct {
	QueueID         string `yaml:"queueId"`
	Direction       string `yaml:"direction"`
	CallID          string `yaml:"callId"`
	ParticipantRole string `yaml:"participantRole"`
}

// SIPREC defaults.
const (
	DefaultSIPAddr        = "127.0.0.1:5060"
	DefaultSIPRealm       = "mediaseal"
	DefaultSIPRECQueue    = "session/extensiondata/callData/queue"
	DefaultSIPRECDir      = "session/extensiondata/callData/direction"
	DefaultSIPRECCallID   = "session/extensiondata/callData/callId"
	DefaultSIPRECRolePath = "extensiondata/role"
)

func (s *SIPREC) applyDefaults() {
	if len(s.Listen) == 0 {
		s.Listen = []SIPListen{{"udp", DefaultSIPAddr}, {"tcp", DefaultSIPAddr}}
	}
	setStr(&s.Auth.Realm, DefaultSIPRealm)
	setStr(&s.Mapping.QueueID, DefaultSIPRECQueue)
	setStr(&s.Mapping.Direction, DefaultSIPRECDir)
	setStr(&s.Mapping.CallID, DefaultSIPRECCallID)
	setStr(&s.Mapping.ParticipantRole, DefaultSIPRECRolePath)
}

func (s *SIPREC) validate() error {
	if !s.Enabled {
		return nil
	}
	for i, l := range s.Listen {
		f := fmt.Sprintf("siprec.listen[%d]", i)
		if !oneOf(l.Transport, "udp", "tcp", "tls") {
			return &FieldError{f + ".transport", l.Transport, "must be udp, tcp or tls"}
		}
		if !validHostPort(l.Addr) {
			return &FieldError{f + ".addr", l.Addr, "must be HOST:PORT"}
		}
		if l.Transport == "tls" && (s.TLS.CertFile == "" || s.TLS.KeyFile == "") {
			return &FieldError{"siprec.tls.certFile", s.TLS.CertFile, "a tls listener needs certFile and keyFile"}
		}
	}
	for i, a := range s.Auth.AllowFrom {
		if _, err := netip.ParsePrefix(a); err != nil && net.ParseIP(a) == nil {
			return &FieldError{fmt.Sprintf("siprec.auth.allowFrom[%d]", i), a, "must be an IP address or CIDR prefix"}
		}
	}
	for i, u := range s.Auth.Users {
		if u.Username == "" || strings.ContainsAny(u.Username, "\":\r\n") {
			return &FieldError{fmt.Sprintf("siprec.auth.users[%d].username", i), u.Username, "must be set, without quotes, colons or line breaks"}
		}
		if len(u.Password) < 8 {
			return &FieldError{fmt.Sprintf("siprec.auth.users[%d].password", i), "(hidden)", "must be at least 8 characters"}
		}
	}
	for _, p := range []struct{ field, v string }{{"queueId", s.Mapping.QueueID}, {"direction", s.Mapping.Direction},
		{"callId", s.Mapping.CallID}, {"participantRole", s.Mapping.ParticipantRole}} {
		if !validMetadataPath(p.v) {
			return &FieldError{"siprec.metadata." + p.field, p.v, `must be element names separated by "/", optionally ending in "@attribute"`}
		}
	}
	return nil
}

func validMetadataPath(p string) bool {
	elems, attr, hasAttr := strings.Cut(p, "@")
	if p == "" || (hasAttr && (attr == "" || strings.ContainsAny(attr, "/@"))) {
		return false
	}
	if elems == "" {
		return hasAttr
	}
	for _, e := range strings.Split(strings.TrimSuffix(elems, "/"), "/") {
		if e == "" || strings.ContainsAny(e, " \t[]()*") {
			return false
		}
	}
	return true
}
