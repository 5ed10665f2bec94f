package config

import (
	"errors"
	"strings"
	"testing"
)

// TestAPIPlaintextRefused: a plain-HTTP API is only accepted on loopback
// or with the explicit insecurePlaintext opt-out; TLS needs both files.
func TestAPIPlaintextRefused(t *testing.T) {
	base := "org: {id: o, region: r}\n"
	cases := []struct {
		name, api string
		field     string // "" = accepted
	}{
		{"loopback plain (make run)", "api: {addr: 127.0.0.1:8080}", ""},
		{"ipv6 loopback plain", "api: {addr: '[::1]:8080'}", ""},
		{"localhost plain", "api: {addr: 'localhost:8080'}", ""},
		{"default addr plain", "", ""},
		{"wildcard plain", "api: {addr: 0.0.0.0:8080}", "api.addr"},
		{"empty host plain", "api: {addr: ':8080'}", "api.addr"},
		{"ipv6 wildcard plain", "api: {addr: '[::]:8080'}", "api.addr"},
		{"lan address plain", "api: {addr: 10.0.0.5:8080}", "api.addr"},
		{"hostname plain", "api: {addr: 'gw.example:8080'}", "api.addr"},
		{"wildcard plain opted out", "api: {addr: 0.0.0.0:8080, insecurePlaintext: true}", ""},
		{"wildcard tls", "api: {addr: 0.0.0.0:8443, tls: {certFile: c, keyFile: k}}", ""},
		{"tls with client CA", "api: {addr: 0.0.0.0:8443, tls: {certFile: c, keyFile: k, clientCAFile: ca}}", ""},
		{"cert without key", "api: {addr: 0.0.0.0:8443, tls: {certFile: c}}", "api.tls.keyFile"},
		{"key without cert", "api: {addr: 0.0.0.0:8443, tls: {keyFile: k}}", "api.tls.certFile"},
		{"client CA without tls", "api: {addr: 127.0.0.1:8080, tls: {clientCAFile: ca}}", "api.tls.clientCAFile"},
		{"tls and plaintext", "api: {addr: 0.0.0.0:8443, insecurePlaintext: true, tls: {certFile: c, keyFile: k}}", "api.insecurePlaintext"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(base + tc.api + "\n"))
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err %v, want a FieldError on %s", err, tc.field)
			}
			if tc.field == "api.addr" && !strings.Contains(err.Error(), "insecurePlaintext") {
				t.Fatalf("message does not name the way out: %v", err)
			}
		})
	}
}

// TestDefaultConfigPlainLoopback: the embedded default (make run) stays a
// plain-HTTP API on loopback.
func TestDefaultConfigPlainLoopback(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if c.API.TLS.Enabled() || !loopbackAddr(c.API.Addr) {
		t.Fatalf("default api %+v", c.API)
	}
}
