package main

import (
	"net/http"

	"github.com/spf13/cobra"
)

// newLegalHolds is `mediaseal legal-holds`: set, list, show and release
// legal holds through the control-plane API (docs/retention.md). A
// release needs the id of an approved legal_hold.release proposal.
func newLegalHolds(g *globals) *cobra.Command {
	f := &apiFlags{g: g}
	cmd := &cobra.Command{Use: "legal-holds", Short: "Legal holds: set, list, show, release (with an approval)"}
	f.register(cmd)
	const base = "/api/v2/legal-holds"
	call := jsonCall(f)
	var active bool
	list := &cobra.Command{Use: "list", Short: "List legal holds", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := base
			if active {
				path += "?active=true"
			}
			return call(cmd, http.MethodGet, path, nil)
		}}
	list.Flags().BoolVar(&active, "active", false, "active holds only")
	show := &cobra.Command{Use: "show HOLD_ID", Short: "Show a hold and the recordings it holds now", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return call(cmd, http.MethodGet, base+"/"+args[0], nil) }}
	var rec, callID, queue, from, to, reason string
	set := &cobra.Command{Use: "set", Short: "Place a recording, a call or a queue's time range under legal hold", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body := map[string]any{"reason": reason}
			for k, v := range map[string]string{"recordingId": rec, "callId": callID, "queueId": queue, "from": from, "to": to} {
				if v != "" {
					body[k] = v
				}
			}
			return call(cmd, http.MethodPost, base, body)
		}}
	set.Flags().StringVar(&rec, "recording", "", "the recording id")
	set.Flags().StringVar(&callID, "call", "", "every recording of this call id")
	set.Flags().StringVar(&queue, "queue", "", "every recording of this queue started in [--from, --to)")
	set.Flags().StringVar(&from, "from", "", "start of a queue hold (RFC 3339)")
	set.Flags().StringVar(&to, "to", "", "end of a queue hold (RFC 3339; empty: open-ended)")
	set.Flags().StringVar(&reason, "reason", "", "why (required)")
	var approval string
	release := &cobra.Command{Use: "release HOLD_ID", Short: "Release a hold with an approved legal_hold.release proposal", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, http.MethodPost, base+"/"+args[0]+"/release", nil, "X-Approval-Id", approval)
		}}
	release.Flags().StringVar(&approval, "approval", "", "the approved legal_hold.release proposal (required)")
	_ = release.MarkFlagRequired("approval")
	due := &cobra.Command{Use: "retention-due", Short: "Retention dry run: the recordings the sweeper would delete now", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, http.MethodGet, "/api/v2/retention/due", nil)
		}}
	cmd.AddCommand(list, show, set, release, due)
	return cmd
}

// newAudioHook is `mediaseal audiohook`: the AudioHook integrations
// (docs/audiohook.md). create prints the client secret once.
func newAudioHook(g *globals) *cobra.Command {
	f := &apiFlags{g: g}
	cmd := &cobra.Command{Use: "audiohook", Short: "AudioHook integrations: list, create (prints the client secret once), disable, enable"}
	f.register(cmd)
	const base = "/api/v2/audiohook/integrations"
	call := jsonCall(f)
	var name, org string
	create := &cobra.Command{Use: "create", Short: "Create an integration: its API key and client secret for the platform", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, http.MethodPost, base, map[string]any{"name": name, "organizationId": org})
		}}
	create.Flags().StringVar(&name, "name", "", "the integration's name (required)")
	create.Flags().StringVar(&org, "organization", "", "the only organization id it may stream (optional)")
	state := func(use string) *cobra.Command {
		return &cobra.Command{Use: use + " INTEGRATION_ID", Short: use + " an integration", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return call(cmd, http.MethodPost, base+"/"+args[0]+"/"+use, nil)
			}}
	}
	list := &cobra.Command{Use: "list", Short: "List integrations (without secrets)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return call(cmd, http.MethodGet, base, nil) }}
	cmd.AddCommand(list, create, state("disable"), state("enable"))
	return cmd
}
