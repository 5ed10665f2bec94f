package gatewaytest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// Admin calls the control-plane API with the gateway's admin token.
func (tg *Gateway) Admin(method, path string, body any, out any) int {
	tg.T.Helper()
	tok, err := os.ReadFile(filepath.Join(tg.Config().DataDir, "admin.token"))
	if err != nil {
		tg.T.Fatal(err)
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, tg.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tg.T.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}
