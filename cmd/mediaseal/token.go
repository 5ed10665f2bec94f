package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mediaseal/mediaseal/ceremony/auth"
)

// apiFlag registers --api, the gateway base URL of every command that calls
// it, and the older spelling --url as a deprecated alias.
func apiFlag(cmd *cobra.Command, base *string) {
	cmd.PersistentFlags().StringVar(base, "api", "", "gateway base URL (default http(s)://<api.addr> of the config)")
	cmd.PersistentFlags().StringVar(base, "url", "", "gateway base URL")
	_ = cmd.PersistentFlags().MarkDeprecated("url", "use --api")
}

// apiURL is the gateway's base URL: --api, or http(s):// (as api.tls) plus api.addr.
func (g *globals) apiURL(flag string) (string, error) {
	if flag != "" {
		return strings.TrimRight(flag, "/"), nil
	}
	cfg, err := g.load()
	if err != nil {
		return "", err
	}
	return apiScheme(cfg) + cfg.API.Addr, nil
}

var httpClient = &http.Client{Timeout: 2 * time.Minute}

func newToken(g *globals) *cobra.Command {
	var credsPath, clientID, base string
	var scopes []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Get a service-account access token (OAuth2 client credentials)",
		Long: "Reads the client id and secret from --credentials (a file written at bootstrap) or from\n" +
			"--client-id and the MEDIASEAL_CLIENT_SECRET environment variable, and prints the access token.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			secret := os.Getenv("MEDIASEAL_CLIENT_SECRET")
			if credsPath != "" {
				c, err := auth.ReadCredentials(credsPath)
				if err != nil {
					return err
				}
				clientID, secret = c.ClientID, c.ClientSecret
			}
			if clientID == "" || secret == "" {
				return fmt.Errorf("give --credentials, or --client-id with MEDIASEAL_CLIENT_SECRET set")
			}
			u, err := g.apiURL(base)
			if err != nil {
				return err
			}
			form := url.Values{"grant_type": {"client_credentials"}}
			if len(scopes) > 0 {
				form.Set("scope", strings.Join(scopes, " "))
			}
			req, err := http.NewRequestWithContext(cmd.Context(), "POST", u+auth.PathToken, strings.NewReader(form.Encode()))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
			resp, err := httpClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("token endpoint: %s: %s", resp.Status, strings.TrimSpace(string(body)))
			}
			if asJSON {
				_, err = cmd.OutOrStdout().Write(body)
				return err
			}
			var t struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(body, &t); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), t.AccessToken)
			return nil
		},
	}
	cmd.Flags().StringVar(&credsPath, "credentials", "", "credentials file (<data-dir>/credentials/<client-id>.json)")
	cmd.Flags().StringVar(&clientID, "client-id", "", "client id (secret from MEDIASEAL_CLIENT_SECRET)")
	apiFlag(cmd, &base)
	cmd.Flags().StringSliceVar(&scopes, "scope", nil, "scopes to ask for (default: every scope the account holds)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the whole token response")
	return cmd
}
