package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

const policiesPath = "/api/v2/recordings/policies"

// newPolicies is `mediaseal policies`: recording policies through the
// control-plane API, for operators who script.
func newPolicies(g *globals) *cobra.Command {
	f := &apiFlags{g: g}
	cmd := &cobra.Command{
		Use:   "policies",
		Short: "List, show, apply and delete recording policies (control-plane API)",
	}
	f.register(cmd)
	cmd.AddCommand(
		&cobra.Command{
			Use: "list", Short: "List the live policies", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return policiesList(cmd, f) },
		},
		&cobra.Command{
			Use: "get ID", Short: "Show one policy (JSON)", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error { return showOne(cmd, f, policiesPath, args[0]) },
		},
		newPoliciesApply(f),
		newPoliciesDelete(f),
		newPoliciesPropose(f),
		newPoliciesProposeDelete(f),
	)
	return cmd
}

type policyRow struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Version       int64    `json:"version"`
	Status        string   `json:"status"`
	RecordingType string   `json:"recordingType"`
	TargetIDs     []string `json:"targetIds"`
	Key           *struct {
		KeyID        string `json:"keyId"`
		ProviderType string `json:"providerType"`
	} `json:"encryptionKeyReference"`
}

func policiesList(cmd *cobra.Command, f *apiFlags) error {
	c, err := f.client()
	if err != nil {
		return err
	}
	ctx, cancel := cmdContext(cmd)
	defer cancel()
	r, err := c.do(ctx, http.MethodGet, policiesPath, nil, nil)
	if err != nil {
		return err
	}
	if f.output == "json" {
		return printJSON(cmd.OutOrStdout(), r.Body)
	}
	var list struct {
		Entities []policyRow `json:"entities"`
	}
	if err := json.Unmarshal(r.Body, &list); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVERSION\tSTATUS\tTYPE\tQUEUES\tKEY\tNAME")
	for _, p := range list.Entities {
		key := "PLATFORM"
		if p.Key != nil {
			key = p.Key.ProviderType + ":" + p.Key.KeyID
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Version, p.Status, p.RecordingType,
			strings.Join(p.TargetIDs, ","), key, p.Name)
	}
	return tw.Flush()
}

// showOne prints GET base/id as indented JSON.
func showOne(cmd *cobra.Command, f *apiFlags, base, id string) error {
	c, err := f.client()
	if err != nil {
		return err
	}
	ctx, cancel := cmdContext(cmd)
	defer cancel()
	r, err := c.do(ctx, http.MethodGet, base+"/"+url.PathEscape(id), nil, nil)
	if err != nil {
		return err
	}
	return printJSON(cmd.OutOrStdout(), r.Body)
}

func newPoliciesApply(f *apiFlags) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Create or update policies from a YAML or JSON file",
		Long: `Each policy in the file (one object, a list, several YAML documents, or the
output of 'policies list -o json') is created when it has no id or its id
is unknown, and replaced otherwise. A "version" in the file makes the
update conditional on the policy still being at that version (409 if it
moved on); without it the current version is replaced. A change applies to
new sessions only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, err := readManifest(file)
			if err != nil {
				return err
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			ctx, cancel := cmdContext(cmd)
			defer cancel()
			for i, obj := range objs {
				msg, err := applyPolicy(ctx, c, obj)
				if err != nil {
					return fmt.Errorf("policy %d of %d: %w", i+1, len(objs), err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), msg)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", `policy file (YAML or JSON; "-" for stdin)`)
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

// applyPolicy creates or replaces one policy and says what it did.
func applyPolicy(ctx context.Context, c *apiClient, obj map[string]any) (string, error) {
	body, err := jsonBody(obj, "version", "createdAt", "updatedAt")
	if err != nil {
		return "", err
	}
	id := stringField(obj, "id")
	var current policyRow
	if id != "" {
		err = c.getJSON(ctx, policiesPath+"/"+url.PathEscape(id), &current)
		if err != nil && !errors.Is(err, errNotFound) {
			return "", err
		}
	}
	if id == "" || err != nil { // new
		r, err := c.do(ctx, http.MethodPost, policiesPath, body, nil)
		if err != nil {
			return "", err
		}
		var p policyRow
		if err := json.Unmarshal(r.Body, &p); err != nil {
			return "", err
		}
		return fmt.Sprintf("policy %s created (version %d)", p.ID, p.Version), nil
	}
	version := current.Version
	if v, ok := obj["version"]; ok {
		n, err := strconv.ParseInt(fmt.Sprint(v), 10, 64)
		if err != nil {
			return "", fmt.Errorf("policy %s: version %v is not a number", id, v)
		}
		version = n
	}
	r, err := c.do(ctx, http.MethodPut, policiesPath+"/"+url.PathEscape(id), body,
		map[string]string{"If-Match": strconv.Quote(strconv.FormatInt(version, 10))})
	if err != nil {
		return "", err
	}
	var p policyRow
	if err := json.Unmarshal(r.Body, &p); err != nil {
		return "", err
	}
	return fmt.Sprintf("policy %s updated (version %d → %d)", p.ID, version, p.Version), nil
}

func newPoliciesDelete(f *apiFlags) *cobra.Command {
	var version int64
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a policy (its versions stay readable for the recordings made under them)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			ctx, cancel := cmdContext(cmd)
			defer cancel()
			var h map[string]string
			if version > 0 {
				h = map[string]string{"If-Match": strconv.Quote(strconv.FormatInt(version, 10))}
			}
			if _, err := c.do(ctx, http.MethodDelete, policiesPath+"/"+url.PathEscape(args[0]), nil, h); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "policy %s deleted\n", args[0])
			return nil
		},
	}
	cmd.Flags().Int64Var(&version, "version", 0, "delete only if the policy is still at this version")
	return cmd
}
