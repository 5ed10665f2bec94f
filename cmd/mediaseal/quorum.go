package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"

	"github.com/spf13/cobra"
)

const quorumPath = "/api/v2/ceremony/quorum"

// newQuorum shows and changes the quorum rules, which live in the shared
// store: a change is a ceremony.quorum proposal (mediaseal approvals
// propose --operation ceremony.quorum --target OPERATION --parameters
// RULE) approved by the strictest quorum held, then run with
// --approval-id by its proposer.
func newQuorum(g *globals) *cobra.Command {
	f := &apiFlags{g: g}
	cmd := &cobra.Command{
		Use:   "quorum",
		Short: "Show and change the quorum rules of the key ceremony (stored in the shared control-plane database)",
	}
	f.register(cmd)
	cmd.AddCommand(
		&cobra.Command{
			Use: "list", Short: "Show every stored rule and what a rule change needs now (JSON)", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				c, err := f.client()
				if err != nil {
					return err
				}
				ctx, cancel := cmdContext(cmd)
				defer cancel()
				r, err := c.do(ctx, http.MethodGet, quorumPath, nil, nil)
				if err != nil {
					return err
				}
				return printJSON(cmd.OutOrStdout(), r.Body)
			},
		},
		newQuorumSet(f),
	)
	return cmd
}

func newQuorumSet(f *apiFlags) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "set OPERATION -f RULE.json --approval-id ID",
		Short: "Replace an operation's rule with the one an approved ceremony.quorum proposal names",
		Long: `RULE.json is the whole rule, exactly as proposed (the proposal's parameters):
{"approvals": 2, "of": 2, "eligibleRoles": ["key_admin", "policy_admin"], "delay": "0s",
 "vetoers": ["auditor", "key_admin"]} and, for recording.playback only, "platformPlayback": true|false.
The file is sent as is: the gateway compares it with the approved parameters and
stores the approved rule. No rule goes below one approval besides the proposer.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.approval == "" {
				return fmt.Errorf("--approval-id is required: a rule changes only with an approved %s proposal", "ceremony.quorum")
			}
			body, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			ctx, cancel := cmdContext(cmd)
			defer cancel()
			r, err := c.do(ctx, http.MethodPut, quorumPath+"/"+url.PathEscape(args[0]), body, nil)
			if err != nil {
				return err
			}
			var out struct {
				Operation string `json:"operation"`
				Approvals int    `json:"approvals"`
				Version   int64  `json:"version"`
			}
			if err := json.Unmarshal(r.Body, &out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "quorum rule %s: %d approvals (version %d)\n", out.Operation, out.Approvals, out.Version)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the rule (JSON), as approved")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}
