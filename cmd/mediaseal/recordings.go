package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

const recordingsPath = "/api/v2/recordings"

// newRecordings is `mediaseal recordings`: finding a recording in the
// index the way people ask for a call (call id, agent, caller number),
// through the control-plane API (recording:read). Playing one back is
// `mediaseal export`, behind its quorum.
func newRecordings(g *globals) *cobra.Command {
	f := &apiFlags{g: g}
	cmd := &cobra.Command{
		Use:   "recordings",
		Short: "Search the recordings index and show a recording's metadata (control-plane API)",
	}
	f.register(cmd)
	cmd.AddCommand(
		newRecordingsSearch(f),
		&cobra.Command{
			Use: "get ID", Short: "Show one recording's metadata (JSON)", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error { return showOne(cmd, f, recordingsPath, args[0]) },
		},
	)
	return cmd
}

// searchFlags maps each flag to the API's query parameter.
var searchFlags = []struct{ flag, param, usage string }{
	{"call-id", "callId", "the call id the platform gave"},
	{"agent-id", "agentId", "the agent's id"},
	{"caller", "caller", "the caller's number, in any form the gateway normalises to E.164 (org.callerRegion)"},
	{"queue", "queueId", "the queue id"},
	{"key", "keyId", "the id of the key the recording is under"},
	{"status", "status", "RECORDING, COMPLETE, RECOVERED, SHREDDED, ..."},
	{"from", "from", "started at or after this RFC 3339 time"},
	{"to", "to", "started before this RFC 3339 time"},
	{"gateway", "gatewayId", "the gateway that recorded it"},
}

func newRecordingsSearch(f *apiFlags) *cobra.Command {
	vals := make([]string, len(searchFlags))
	var limit, pageSize int
	cmd := &cobra.Command{
		Use:   "search [--call-id ID] [--agent-id ID] [--caller NUMBER] [...]",
		Short: "Find recordings by call id, agent, caller number, queue, key, status, time or gateway (newest first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for i, s := range searchFlags {
				if vals[i] != "" {
					q.Set(s.param, vals[i])
				}
			}
			return recordingsSearch(cmd, f, q, limit, pageSize)
		},
	}
	for i, s := range searchFlags {
		cmd.Flags().StringVar(&vals[i], s.flag, "", s.usage)
	}
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many recordings (pages are followed until then)")
	cmd.Flags().IntVar(&pageSize, "page-size", 200, "recordings asked for per request (1-1000)")
	return cmd
}

type recordingRow struct {
	ID        string     `json:"id"`
	CallID    string     `json:"callId"`
	AgentID   string     `json:"agentId"`
	Caller    string     `json:"caller"`
	QueueID   string     `json:"queueId"`
	Status    string     `json:"status"`
	StartedAt time.Time  `json:"startedAt"`
	EndedAt   *time.Time `json:"endedAt"`
	Key       struct {
		Provider string `json:"provider"`
		KeyID    string `json:"keyId"`
		Fallback bool   `json:"fallback"`
	} `json:"key"`
}

// recordingsSearch follows the API's cursor until limit rows: the cursor
// is bound to the filter, so every page answers the same question.
func recordingsSearch(cmd *cobra.Command, f *apiFlags, q url.Values, limit, pageSize int) error {
	if limit < 1 {
		return fmt.Errorf("--limit %d: want at least 1", limit)
	}
	if pageSize < 1 || pageSize > 1000 {
		return fmt.Errorf("--page-size %d: want 1-1000", pageSize)
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	ctx, cancel := cmdContext(cmd)
	defer cancel()
	var raw []json.RawMessage
	for len(raw) < limit {
		q.Set("limit", fmt.Sprint(min(limit-len(raw), pageSize)))
		r, err := c.do(ctx, http.MethodGet, recordingsPath+"?"+q.Encode(), nil, nil)
		if err != nil {
			return err
		}
		var page struct {
			Entities   []json.RawMessage `json:"entities"`
			NextCursor string            `json:"nextCursor"`
		}
		if err := json.Unmarshal(r.Body, &page); err != nil {
			return fmt.Errorf("GET %s: %w", recordingsPath, err)
		}
		raw = append(raw, page.Entities...)
		if page.NextCursor == "" || len(page.Entities) == 0 {
			break
		}
		q.Set("cursor", page.NextCursor)
	}
	if f.output == "json" {
		b, err := json.Marshal(map[string]any{"entities": raw})
		if err != nil {
			return err
		}
		return printJSON(cmd.OutOrStdout(), b)
	}
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTARTED\tDURATION\tSTATUS\tCALL\tAGENT\tCALLER\tQUEUE\tKEY")
	for _, m := range raw {
		var r recordingRow
		if err := json.Unmarshal(m, &r); err != nil {
			return err
		}
		dur := "-"
		if r.EndedAt != nil {
			dur = r.EndedAt.Sub(r.StartedAt).Round(time.Second).String()
		}
		key := r.Key.Provider + ":" + r.Key.KeyID
		if r.Key.Fallback {
			key += " (fallback)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.StartedAt.UTC().Format(time.RFC3339), dur,
			r.Status, r.CallID, r.AgentID, r.Caller, r.QueueID, key)
	}
	return tw.Flush()
}
