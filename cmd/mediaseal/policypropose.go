package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/approvals"
	"github.com/mediaseal/mediaseal/policy"
)

// A policy write that may change which customer key a queue's calls get
// (or its failure mode) needs a policy.encryption_key approval whose
// parameters are the whole normalised policy and the version it replaces
// (a delete: the id and version). These commands propose exactly that, so
// `policies apply` / `policies delete` with --approval-id then run it.

func newPoliciesPropose(f *apiFlags) *cobra.Command {
	var file, reason string
	cmd := &cobra.Command{
		Use:   "propose -f FILE --reason WHY",
		Short: "Propose the policy.encryption_key approval for applying one policy file",
		Long: `Proposes the approval 'policies apply -f FILE --approval-id ID' needs when
the change moves a queue on or off a customer key, changes the key, or its
failure mode: the parameters are the whole policy as the server normalises
it and the version it replaces, so the policy applied must be exactly the
one approved, and a policy changed after the approval refuses it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, err := readManifest(file)
			if err != nil {
				return err
			}
			if len(objs) != 1 {
				return fmt.Errorf("%s holds %d policies: propose one at a time", file, len(objs))
			}
			body, err := jsonBody(objs[0], "version", "createdAt", "updatedAt")
			if err != nil {
				return err
			}
			var p policy.Policy
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&p); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			if p.ID == "" {
				return fmt.Errorf("%s: the policy needs an id: the approval names it", file)
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			ctx, cancel := cmdContext(cmd)
			defer cancel()
			version, err := currentPolicyVersion(ctx, c, p.ID, true)
			if err != nil {
				return err
			}
			params, err := api.PolicyApprovalParams(p, version)
			if err != nil {
				return err
			}
			return proposePolicyKey(cmd, ctx, c, p.ID, params, reason)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", `policy file with one policy (YAML or JSON; "-" for stdin)`)
	cmd.Flags().StringVar(&reason, "reason", "", "why (shown to the approvers)")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func newPoliciesProposeDelete(f *apiFlags) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "propose-delete ID --reason WHY",
		Short: "Propose the policy.encryption_key approval for deleting a policy at its current version",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			ctx, cancel := cmdContext(cmd)
			defer cancel()
			version, err := currentPolicyVersion(ctx, c, args[0], false)
			if err != nil {
				return err
			}
			params, err := api.PolicyDeleteParams(args[0], version)
			if err != nil {
				return err
			}
			return proposePolicyKey(cmd, ctx, c, args[0], params, reason)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (shown to the approvers)")
	return cmd
}

// currentPolicyVersion is the live version of policy id; 0 when it does
// not exist and may be created (mayBeNew).
func currentPolicyVersion(ctx context.Context, c *apiClient, id string, mayBeNew bool) (int64, error) {
	var cur policyRow
	err := c.getJSON(ctx, policiesPath+"/"+url.PathEscape(id), &cur)
	switch {
	case errors.Is(err, errNotFound) && mayBeNew:
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("policy %s: %w", id, err)
	}
	return cur.Version, nil
}

func proposePolicyKey(cmd *cobra.Command, ctx context.Context, c *apiClient, id string, params json.RawMessage, reason string) error {
	body, err := json.Marshal(map[string]any{"operation": approvals.OpPolicyKey, "target": id, "parameters": params, "reason": reason})
	if err != nil {
		return err
	}
	r, err := c.do(ctx, http.MethodPost, "/api/v2/approvals", body, nil)
	if err != nil {
		return err
	}
	return printJSON(cmd.OutOrStdout(), r.Body)
}
