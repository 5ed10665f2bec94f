package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mediaseal/mediaseal/ceremony/api"
)

// apiTimeout bounds one control-plane request.
const apiTimeout = 30 * time.Second

// errNotFound is a 404 from the API (callers branch on it).
var errNotFound = errors.New("not found")

// apiFlags are the connection flags of the commands that call the
// control-plane API (policies, keys).
type apiFlags struct {
	g         *globals
	url       string
	tokenFile string
	output    string
	approval  string
}

func (f *apiFlags) register(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&f.url, "api", "", "control-plane base URL (default: http(s)://<api.addr> of the config)")
	cmd.PersistentFlags().StringVar(&f.tokenFile, "token-file", "", "bearer token file (default: <dataDir>/admin.token)")
	cmd.PersistentFlags().StringVarP(&f.output, "output", "o", "table", "list output: table or json")
	cmd.PersistentFlags().StringVar(&f.approval, "approval-id", "", "approved proposal to send with changes that need a quorum (X-Approval-Id)")
}

// client resolves the defaults from the config and reads the token.
func (f *apiFlags) client() (*apiClient, error) {
	base, tokenFile := f.url, f.tokenFile
	if base == "" || tokenFile == "" {
		cfg, err := f.g.load()
		if err != nil {
			return nil, err
		}
		if base == "" {
			base = apiScheme(cfg) + cfg.API.Addr
		}
		if tokenFile == "" {
			tokenFile = filepath.Join(cfg.DataDir, "admin.token")
		}
	}
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("--api %q: want an http:// or https:// URL", base)
	}
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return nil, fmt.Errorf("token: %s is empty", tokenFile)
	}
	return &apiClient{base: strings.TrimRight(base, "/"), token: tok, approval: f.approval, hc: &http.Client{Timeout: apiTimeout, Transport: httpClient.Transport}}, nil
}

// apiClient calls the /api/v2 endpoints with a bearer token.
type apiClient struct {
	base     string
	token    string
	approval string // X-Approval-Id sent with every change, when set
	hc       *http.Client
}

// response is a successful answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends body (JSON, nil for none) and returns the answer; an error
// status becomes an *api.Error (or errNotFound wrapping it for 404).
func (c *apiClient) do(ctx context.Context, method, path string, body []byte, header map[string]string) (response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.approval != "" && method != http.MethodGet {
		req.Header.Set("X-Approval-Id", c.approval)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode < 300 {
		return response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
	}
	e := &api.Error{}
	if json.Unmarshal(b, e) != nil || e.Code == "" {
		e = &api.Error{Status: resp.StatusCode, Code: http.StatusText(resp.StatusCode), Message: strings.TrimSpace(string(b))}
	}
	if resp.StatusCode == http.StatusNotFound {
		return response{}, fmt.Errorf("%w: %s %s: %w", errNotFound, method, path, e)
	}
	return response{}, fmt.Errorf("%s %s: %w", method, path, e)
}

// getJSON GETs path into out.
func (c *apiClient) getJSON(ctx context.Context, path string, out any) error {
	r, err := c.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(r.Body, out); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

// printJSON writes an API object indented.
func printJSON(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// listEntities is the shape of every list answer.
type listEntities struct {
	Entities []json.RawMessage `json:"entities"`
}

func cmdContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithTimeout(ctx, 2*apiTimeout)
}
