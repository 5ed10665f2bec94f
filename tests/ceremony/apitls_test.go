package ceremony_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/auth"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// startTLSGateway runs a gateway whose API serves the pair at
// dir/api.crt, dir/api.key (serial 100), with tweak applied to api.tls.
func startTLSGateway(t *testing.T, ca *testenv.CA, tweak func(*config.APITLS)) (*gatewaytest.Gateway, string) {
	t.Helper()
	dir := t.TempDir()
	c, k := ca.Issue(100, false)
	writeFile(t, filepath.Join(dir, "api.crt"), c)
	writeFile(t, filepath.Join(dir, "api.key"), k)
	tg := gatewaytest.Start(t, func(cfg *config.Config) {
		cfg.API.TLS = config.APITLS{CertFile: filepath.Join(dir, "api.crt"), KeyFile: filepath.Join(dir, "api.key")}
		if tweak != nil {
			tweak(&cfg.API.TLS)
		}
	})
	return tg, dir
}

func tlsClient(tc *tls.Config) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
}

// tlsToken gets a principal's token from the JSON token endpoint over hc.
func tlsToken(t *testing.T, hc *http.Client, base, dataDir, id string) string {
	t.Helper()
	c, err := auth.ReadCredentials(auth.CredentialsPath(dataDir, id))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"grantType": "client_credentials", "scopes": c.Scopes,
		"applicationId": c.ClientID, "expirationSeconds": 600, "clientSecret": c.ClientSecret})
	resp, err := hc.Post(base+auth.PathTokenJSON, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("token over TLS: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"accessToken"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&out) != nil || out.AccessToken == "" {
		t.Fatalf("token for %s: %d", id, resp.StatusCode)
	}
	return out.AccessToken
}

func getStatus(t *testing.T, hc *http.Client, u, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// servedSerial opens a fresh TLS connection and returns the serial of the
// certificate the gateway presents.
func servedSerial(t *testing.T, addr string, pool *x509.CertPool) int64 {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestAPIOverTLS drives the API of a running gateway over HTTPS with a
// client trusting only the test CA: token endpoint, an authenticated
// call, and the downgrades an attacker on the path would try.
func TestAPIOverTLS(t *testing.T) {
	ca := testenv.NewCA(t, "mediaseal test CA")
	tg, _ := startTLSGateway(t, ca, nil)
	addr := tg.Addr()
	base := "https://" + addr
	hc := tlsClient(&tls.Config{RootCAs: ca.Pool})

	tok := tlsToken(t, hc, base, tg.Config().DataDir, "auditor-1")
	if code := getStatus(t, hc, base+"/api/v2/audit/events?limit=5", tok); code != 200 {
		t.Fatalf("authenticated call over TLS: %d", code)
	}
	if code := getStatus(t, hc, base+"/api/v2/audit/events?limit=5", ""); code != 401 {
		t.Fatalf("no token over TLS: %d, want 401", code)
	}

	t.Run("plain HTTP to the TLS port serves no API", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v2/audit/events", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			return // connection closed: nothing served in clear
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(body), "events") {
			t.Fatalf("plain HTTP answered %d: %s", resp.StatusCode, body)
		}
	})
	t.Run("untrusted CA refused by the client", func(t *testing.T) {
		other := testenv.NewCA(t, "someone else")
		if _, err := tlsClient(&tls.Config{RootCAs: other.Pool}).Get(base + "/healthz"); err == nil {
			t.Fatal("a client trusting another CA accepted the gateway's certificate")
		}
	})
	for _, v := range []struct {
		name     string
		min, max uint16
		suites   []uint16
	}{
		{"TLS 1.0", tls.VersionTLS10, tls.VersionTLS10, nil},
		{"TLS 1.1", tls.VersionTLS11, tls.VersionTLS11, nil},
		{"TLS 1.2 CBC suite", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}},
	} {
		t.Run(v.name+" refused", func(t *testing.T) {
			conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool, MinVersion: v.min, MaxVersion: v.max, CipherSuites: v.suites})
			if err == nil {
				conn.Close()
				t.Fatalf("handshake with %s succeeded", v.name)
			}
		})
	}
	t.Run("TLS 1.2 AEAD accepted", func(t *testing.T) {
		c12 := tlsClient(&tls.Config{RootCAs: ca.Pool, MaxVersion: tls.VersionTLS12})
		if code := getStatus(t, c12, base+"/healthz", ""); code != 200 {
			t.Fatalf("TLS 1.2: %d", code)
		}
	})
}

// TestAPITLSReload: SIGHUP makes the next handshake present the new
// certificate without closing the listener; a bad pair (garbage, or a
// certificate whose key does not match) keeps the old one in service.
func TestAPITLSReload(t *testing.T) {
	ca := testenv.NewCA(t, "mediaseal test CA")
	tg, dir := startTLSGateway(t, ca, nil)
	addr := tg.Addr()
	if s := servedSerial(t, addr, ca.Pool); s != 100 {
		t.Fatalf("serial %d, want 100", s)
	}
	// A connection open before the reload keeps working after it.
	hc := tlsClient(&tls.Config{RootCAs: ca.Pool})
	if code := getStatus(t, hc, "https://"+addr+"/healthz", ""); code != 200 {
		t.Fatal(code)
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go tg.ReloadTLSOn(ctx, hup)

	c, k := ca.Issue(200, false)
	writeFile(t, filepath.Join(dir, "api.crt"), c)
	writeFile(t, filepath.Join(dir, "api.key"), k)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for servedSerial(t, addr, ca.Pool) != 200 {
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP did not bring the new certificate into service")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := getStatus(t, hc, "https://"+addr+"/healthz", ""); code != 200 {
		t.Fatalf("after reload: %d", code)
	}

	c3, _ := ca.Issue(300, false)
	bad := []struct {
		name      string
		cert, key []byte
	}{
		{"garbage certificate", []byte("not a certificate"), k},
		{"key of another certificate", c3, k},
		{"empty key", c, nil},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			writeFile(t, filepath.Join(dir, "api.crt"), b.cert)
			writeFile(t, filepath.Join(dir, "api.key"), b.key)
			if err := tg.ReloadTLS(); err == nil {
				t.Fatal("reload of a bad pair succeeded")
			}
			if s := servedSerial(t, addr, ca.Pool); s != 200 {
				t.Fatalf("serial %d after a failed reload, want 200 (the old one)", s)
			}
		})
	}
}

// TestAPIMutualTLS: with api.tls.clientCAFile a client without a
// certificate from that CA gets no API at all.
func TestAPIMutualTLS(t *testing.T) {
	ca := testenv.NewCA(t, "mediaseal test CA")
	clients := testenv.NewCA(t, "client CA")
	caFile := filepath.Join(t.TempDir(), "clients.crt")
	writeFile(t, caFile, clients.PEM)
	tg, _ := startTLSGateway(t, ca, func(c *config.APITLS) { c.ClientCAFile = caFile })
	base := "https://" + tg.Addr()

	if _, err := tlsClient(&tls.Config{RootCAs: ca.Pool}).Get(base + "/healthz"); err == nil {
		t.Fatal("a client without a certificate was served")
	}
	// A certificate from the server's CA (not the client CA) is refused too.
	wc, wk := ca.Issue(7, true)
	wrong, err := tls.X509KeyPair(wc, wk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tlsClient(&tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{wrong}}).Get(base + "/healthz"); err == nil {
		t.Fatal("a client certificate from another CA was accepted")
	}
	cc, ck := clients.Issue(8, true)
	good, err := tls.X509KeyPair(cc, ck)
	if err != nil {
		t.Fatal(err)
	}
	hc := tlsClient(&tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{good}})
	tok := tlsToken(t, hc, base, tg.Config().DataDir, "auditor-1")
	if code := getStatus(t, hc, base+"/api/v2/audit/events?limit=5", tok); code != 200 {
		t.Fatalf("mutual TLS call: %d", code)
	}
}
