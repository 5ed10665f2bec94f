package gatewaytest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/auth"
)

// Principal is a bootstrapped service account with its token.
type Principal struct {
	TG    *Gateway
	Creds auth.Credentials
	Token string
}

// Principal is the bootstrapped service account id of tg, with a token.
func (tg *Gateway) Principal(id string) *Principal {
	tg.T.Helper()
	c, err := auth.ReadCredentials(auth.CredentialsPath(tg.Config().DataDir, id))
	if err != nil {
		tg.T.Fatal(err)
	}
	p := &Principal{TG: tg, Creds: c}
	// The reference guide's JSON token request.
	body, _ := json.Marshal(map[string]any{"grantType": "client_credentials", "scopes": c.Scopes,
		"applicationId": c.ClientID, "expirationSeconds": 3600, "clientSecret": c.ClientSecret})
	resp, err := http.Post(tg.URL+auth.PathTokenJSON, "application/json", bytes.NewReader(body))
	if err != nil {
		tg.T.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string   `json:"accessToken"`
		Scopes      []string `json:"scopes"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&out) != nil || out.AccessToken == "" {
		tg.T.Fatalf("token for %s: %d", id, resp.StatusCode)
	}
	p.Token = out.AccessToken
	return p
}

// Call sends a JSON request as p and returns the status, the raw body and
// the decoded JSON object (if any).
func (p *Principal) Call(method, path string, body any, header ...string) (int, []byte, map[string]any) {
	p.TG.T.Helper()
	return RawCall(p.TG.T, method, p.TG.URL+path, p.Token, body, header...)
}

// RawCall sends a JSON request with a bearer token (and header pairs) and
// returns the status, the raw body and the decoded JSON object (if any).
func RawCall(t testing.TB, method, u, token string, body any, header ...string) (int, []byte, map[string]any) {
	t.Helper()
	var rd io.Reader
	if raw, ok := body.([]byte); ok { // sent as is (malformed bodies)
		rd = bytes.NewReader(raw)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, raw, m
}

// Must is Call that fails the test unless the status is want.
func (p *Principal) Must(want int, method, path string, body any, header ...string) map[string]any {
	p.TG.T.Helper()
	code, raw, m := p.Call(method, path, body, header...)
	if code != want {
		p.TG.T.Fatalf("%s %s %s: %d, want %d: %s", p.Creds.ClientID, method, path, code, want, raw)
	}
	return m
}

// Propose returns the id and digest of a new proposal.
func (p *Principal) Propose(op, target string, params any, reason string) (string, string) {
	p.TG.T.Helper()
	body := map[string]any{"operation": op, "target": target, "reason": reason}
	if params != nil {
		body["parameters"] = params
	}
	m := p.Must(201, "POST", "/api/v2/approvals", body)
	return m["id"].(string), m["digest"].(string)
}
