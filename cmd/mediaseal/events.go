package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// newEvents is `mediaseal events`: webhook subscriptions of lifecycle
// events through the control-plane API (recording-policy scopes). Answers
// are printed as JSON; the secret appears only in the answers of create
// and rotate, so the operator stores it then.
func newEvents(g *globals) *cobra.Command {
	f := &apiFlags{g: g}
	cmd := &cobra.Command{Use: "events", Short: "Webhook subscriptions: list, show, create, update, delete, rotate, dead letters, replay"}
	f.register(cmd)
	const base = "/api/v2/events/subscriptions"
	call := jsonCall(f)
	simple := func(use, short, method, suffix string) *cobra.Command {
		return &cobra.Command{Use: use + " SUBSCRIPTION_ID", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return call(cmd, method, base+"/"+args[0]+suffix, nil)
			}}
	}
	list := &cobra.Command{Use: "list", Short: "List subscriptions (without secrets)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return call(cmd, http.MethodGet, base, nil) }}
	cmd.AddCommand(list,
		simple("show", "Show a subscription", http.MethodGet, ""),
		newEventsWrite("create", call, base),
		newEventsWrite("update", call, base),
		simple("delete", "Delete a subscription and its pending deliveries", http.MethodDelete, ""),
		simple("rotate", "Start a secret rotation: prints the new secret; old and new both sign until end-rotation", http.MethodPost, "/rotate"),
		simple("end-rotation", "Stop signing with the previous secret", http.MethodPost, "/rotate/end"),
		simple("dead-letters", "List the dead-lettered deliveries of a subscription", http.MethodGet, "/deadletters"),
		newEventsReplay(call, base))
	return cmd
}

type eventsCall func(cmd *cobra.Command, method, path string, body any, header ...string) error

// jsonCall sends a JSON body (nil: none) with optional header name/value
// pairs and prints the JSON answer ("done" for an empty one).
func jsonCall(f *apiFlags) eventsCall {
	return func(cmd *cobra.Command, method, path string, body any, header ...string) error {
		c, err := f.client()
		if err != nil {
			return err
		}
		ctx, cancel := cmdContext(cmd)
		defer cancel()
		var raw []byte
		if body != nil {
			if raw, err = json.Marshal(body); err != nil {
				return err
			}
		}
		var h map[string]string
		for i := 0; i+1 < len(header); i += 2 {
			if h == nil {
				h = map[string]string{}
			}
			h[header[i]] = header[i+1]
		}
		r, err := c.do(ctx, method, path, raw, h)
		if err != nil {
			return err
		}
		if len(r.Body) == 0 {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "done")
			return err
		}
		return printJSON(cmd.OutOrStdout(), r.Body)
	}
}

// newEventsWrite is `events create` (no argument) or `events update ID`.
func newEventsWrite(use string, call eventsCall, base string) *cobra.Command {
	var url, state, desc string
	var types []string
	var seeCaller bool
	c := &cobra.Command{Use: use, Short: "Create a subscription (prints its secret once)", Args: cobra.NoArgs}
	method := http.MethodPost
	if use == "update" {
		c.Use, c.Args, method = "update SUBSCRIPTION_ID", cobra.ExactArgs(1), http.MethodPut
		c.Short = "Replace a subscription's url, types, caller visibility, state and description"
	}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		body := map[string]any{"url": url, "types": types, "seeCaller": seeCaller, "description": desc}
		if state != "" {
			body["state"] = state
		}
		path := base
		if len(args) == 1 {
			path += "/" + args[0]
		}
		return call(cmd, method, path, body)
	}
	c.Flags().StringVar(&url, "url", "", "https URL of the receiver")
	c.Flags().StringSliceVar(&types, "type", nil, `event types (repeat or comma-separate; "*" for all)`)
	c.Flags().BoolVar(&seeCaller, "see-caller", false, "include caller numbers in the events' data")
	c.Flags().StringVar(&state, "state", "", "ACTIVE or PAUSED")
	c.Flags().StringVar(&desc, "description", "", "free text")
	_ = c.MarkFlagRequired("url")
	_ = c.MarkFlagRequired("type")
	return c
}

func newEventsReplay(call eventsCall, base string) *cobra.Command {
	var from, to string
	c := &cobra.Command{Use: "replay SUBSCRIPTION_ID", Short: "Deliver again the events of [from, to) (same ids: receivers deduplicate)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, v := range []string{from, to} {
				if _, err := time.Parse(time.RFC3339, v); err != nil {
					return fmt.Errorf("--from and --to must be RFC 3339 times: %w", err)
				}
			}
			return call(cmd, http.MethodPost, base+"/"+args[0]+"/replay", map[string]any{"from": from, "to": to})
		}}
	c.Flags().StringVar(&from, "from", "", "start of the range (RFC 3339)")
	c.Flags().StringVar(&to, "to", "", "end of the range, excluded (RFC 3339)")
	return c
}
