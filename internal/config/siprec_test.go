package config

import (
	"strings"
	"testing"
)

func TestSIPRECConfig(t *testing.T) {
	c, err := Parse([]byte("siprec:\n  enabled: true\n  auth: {allowFrom: [10.0.0.0/8, 127.0.0.1]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SIPREC.Listen) != 2 || c.SIPREC.Mapping.QueueID != DefaultSIPRECQueue || c.SIPREC.Auth.Realm != DefaultSIPRealm {
		t.Fatalf("defaults not applied: %+v", c.SIPREC)
	}
	tests := []struct{ name, yaml, want string }{
		{"transport", "siprec: {enabled: true, listen: [{transport: sctp, addr: ':5060'}]}\n", "siprec.listen[0].transport"},
		{"addr", "siprec: {enabled: true, listen: [{transport: udp, addr: '5060'}]}\n", "siprec.listen[0].addr"},
		{"tls without cert", "siprec: {enabled: true, listen: [{transport: tls, addr: ':5061'}]}\n", "siprec.tls.certFile"},
		{"allowFrom", "siprec: {enabled: true, auth: {allowFrom: [somewhere]}}\n", "siprec.auth.allowFrom[0]"},
		{"short password", "siprec: {enabled: true, auth: {users: [{username: src, password: x}]}}\n", "siprec.auth.users[0].password"},
		{"bad path", "siprec: {enabled: true, metadata: {queueId: 'session//queue'}}\n", "siprec.metadata.queueId"},
		{"unknown key", "siprec: {enabled: true, listn: []}\n", "field listn not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "password: x") {
				t.Fatal("password in the error")
			}
		})
	}
	if _, err := Parse([]byte("siprec: {enabled: false, listen: [{transport: sctp}]}\n")); err != nil {
		t.Fatalf("disabled section validated: %v", err)
	}
}
