package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// ceremonyClient calls the control-plane API with a bearer token.
type ceremonyClient struct {
	base, token string
	cmd         *cobra.Command
}

func (c ceremonyClient) call(method, path string, body any) (map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(c.cmd.Context(), method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&out); err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	if resp.StatusCode >= 300 {
		return out, fmt.Errorf("%s %s: %s: %v", method, path, resp.Status, out["message"])
	}
	return out, nil
}

func newApprovals(g *globals) *cobra.Command {
	var base, token, tokenFile string
	cmd := &cobra.Command{Use: "approvals", Short: "Propose, inspect, approve and veto quorum operations"}
	apiFlag(cmd, &base)
	cmd.PersistentFlags().StringVar(&tokenFile, "token-file", "", "file holding the access token (default $MEDIASEAL_TOKEN; see mediaseal token)")
	cmd.PersistentFlags().StringVar(&token, "token", "", "access token")
	_ = cmd.PersistentFlags().MarkDeprecated("token", "a token on the command line is visible to every user in ps; use --token-file or $MEDIASEAL_TOKEN")
	client := func(c *cobra.Command) (ceremonyClient, error) {
		u, err := g.apiURL(base)
		if err != nil {
			return ceremonyClient{}, err
		}
		tok := token
		if tokenFile != "" {
			b, err := os.ReadFile(tokenFile)
			if err != nil {
				return ceremonyClient{}, fmt.Errorf("token: %w", err)
			}
			tok = strings.TrimSpace(string(b))
		}
		if tok == "" {
			tok = os.Getenv("MEDIASEAL_TOKEN")
		}
		if tok == "" {
			return ceremonyClient{}, fmt.Errorf("give --token-file or set MEDIASEAL_TOKEN")
		}
		return ceremonyClient{base: u, token: tok, cmd: c}, nil
	}
	printJSON := func(c *cobra.Command, v any) error {
		enc := json.NewEncoder(c.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	var status, operation string
	list := &cobra.Command{Use: "list", Short: "List proposals", RunE: func(c *cobra.Command, _ []string) error {
		cl, err := client(c)
		if err != nil {
			return err
		}
		q := url.Values{}
		if status != "" {
			q.Set("status", status)
		}
		if operation != "" {
			q.Set("operation", operation)
		}
		out, err := cl.call("GET", "/api/v2/approvals?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		ents, _ := out["entities"].([]any)
		for _, e := range ents {
			a, _ := e.(map[string]any)
			fmt.Fprintf(c.OutOrStdout(), "%v  %-9v %-22v %-40v by %v\n", a["id"], a["status"], a["operation"], a["target"], a["proposer"])
		}
		return nil
	}}
	list.Flags().StringVar(&status, "status", "", "PENDING, APPROVED, SCHEDULED, EXECUTING, EXECUTED, VETOED, EXPIRED or FAILED")
	list.Flags().StringVar(&operation, "operation", "", "operation")
	show := &cobra.Command{Use: "show ID", Args: cobra.ExactArgs(1), Short: "Show a proposal with its canonical form and digest",
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := client(c)
			if err != nil {
				return err
			}
			out, err := cl.call("GET", "/api/v2/approvals/"+url.PathEscape(args[0]), nil)
			if err != nil {
				return err
			}
			return printJSON(c, out)
		}}
	var op, target, params, reason string
	propose := &cobra.Command{Use: "propose", Short: "Propose an operation", RunE: func(c *cobra.Command, _ []string) error {
		cl, err := client(c)
		if err != nil {
			return err
		}
		body := map[string]any{"operation": op, "target": target, "reason": reason}
		if params != "" {
			body["parameters"] = json.RawMessage(params)
		}
		out, err := cl.call("POST", "/api/v2/approvals", body)
		if err != nil {
			return err
		}
		return printJSON(c, out)
	}}
	propose.Flags().StringVar(&op, "operation", "", "key.bind, policy.encryption_key, key.disable, key.delete, recording.playback, ceremony.quorum")
	propose.Flags().StringVar(&target, "target", "", "key id, policy id, recording id, or the operation whose rule changes")
	propose.Flags().StringVar(&params, "parameters", "", "parameters as a JSON object")
	propose.Flags().StringVar(&reason, "reason", "", "why")
	approve := &cobra.Command{Use: "approve ID", Args: cobra.ExactArgs(1),
		Short: "Approve a proposal: prints its canonical form and approves exactly that digest",
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := client(c)
			if err != nil {
				return err
			}
			a, err := cl.call("GET", "/api/v2/approvals/"+url.PathEscape(args[0]), nil)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "approving %v\n  %v\n  digest %v\n", a["id"], a["canonical"], a["digest"])
			out, err := cl.call("POST", "/api/v2/approvals/"+url.PathEscape(args[0])+"/approve", map[string]any{"digest": a["digest"]})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "status %v\n", out["status"])
			if at, ok := out["executesAt"]; ok { // SCHEDULED: the gateway runs it then, unless vetoed
				fmt.Fprintf(c.OutOrStdout(), "executes at %v unless vetoed\n", at)
			}
			return nil
		}}
	veto := &cobra.Command{Use: "veto ID", Args: cobra.ExactArgs(1), Short: "Veto a proposal before it runs (pending, or scheduled during its delay)",
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := client(c)
			if err != nil {
				return err
			}
			if strings.TrimSpace(reason) == "" {
				return fmt.Errorf("give --reason")
			}
			out, err := cl.call("POST", "/api/v2/approvals/"+url.PathEscape(args[0])+"/veto", map[string]any{"reason": reason})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "status %v\n", out["status"])
			return nil
		}}
	veto.Flags().StringVar(&reason, "reason", "", "why")
	cmd.AddCommand(list, show, propose, approve, veto)
	return cmd
}
