package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// newJobs is `mediaseal jobs`: re-encryption jobs (rewrap, reseal) through
// the control-plane API, with a progress bar in the terminal.
func newJobs(g *globals) *cobra.Command {
	f := &apiFlags{g: g}
	cmd := &cobra.Command{Use: "jobs", Short: "Re-encryption jobs: list, show (with progress), start, cancel"}
	f.register(cmd)
	cmd.AddCommand(newJobsList(f), newJobsShow(f), newJobsStart(f), newJobsCancel(f))
	return cmd
}

func newJobsList(f *apiFlags) *cobra.Command {
	var active bool
	return &cobra.Command{
		Use:   "list",
		Short: "List re-encryption jobs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			ctx, cancel := cmdContext(cmd)
			defer cancel()
			path := "/api/v2/recordings/reencrypt"
			if active {
				path += "?active=true"
			}
			var list struct {
				Entities []api.JobJSON `json:"entities"`
			}
			if err := c.getJSON(ctx, path, &list); err != nil {
				return err
			}
			if f.output == "json" {
				b, _ := json.Marshal(list)
				return printJSON(cmd.OutOrStdout(), b)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tMODE\tSTATUS\tPROCESSED\tCHANGED\tSKIPPED\tERRORS\tCREATED")
			for _, j := range list.Entities {
				mode := j.Mode
				if j.DryRun {
					mode += " (dry run)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%d\t%d\t%d\t%s\n", j.ID, mode, j.Status, j.Processed, j.Planned,
					j.Changed, j.Skipped, j.Errors, j.CreatedAt.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
}

func newJobsShow(f *apiFlags) *cobra.Command {
	var watch bool
	cmd := &cobra.Command{
		Use:   "show JOB_ID",
		Short: "Show a job; --watch follows it with a progress bar until it ends",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			if watch {
				return watchJob(cmd.Context(), c, args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			return showJob(cmd, f, c, args[0])
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "follow the job with a progress bar until it ends")
	return cmd
}

func showJob(cmd *cobra.Command, f *apiFlags, c *apiClient, id string) error {
	ctx, cancel := cmdContext(cmd)
	defer cancel()
	r, err := c.do(ctx, http.MethodGet, "/api/v2/recordings/reencrypt/"+id, nil, nil)
	if err != nil {
		return err
	}
	var j api.JobJSON
	if err := json.Unmarshal(r.Body, &j); err != nil {
		return err
	}
	if f.output == "json" {
		if err := printJSON(cmd.OutOrStdout(), r.Body); err != nil {
			return err
		}
	} else {
		printJob(cmd.OutOrStdout(), j)
	}
	return jobExit(j)
}

// jobExit is the command's error for a job that ended other than
// COMPLETED (a script must not read "done" from a job with errors).
func jobExit(j api.JobJSON) error {
	if store.JobFinal(j.Status) && j.Status != store.JobCompleted {
		return fmt.Errorf("job %s %s (%d errors)", j.ID, j.Status, j.Errors)
	}
	return nil
}

func printJob(w io.Writer, j api.JobJSON) {
	mode := j.Mode
	if j.DryRun {
		mode += " (dry run: nothing changes)"
	}
	fmt.Fprintf(w, "job %s  %s  %s\n", j.ID, mode, j.Status)
	if len(j.PolicyIDs) > 0 {
		fmt.Fprintf(w, "  policies      %s\n", strings.Join(j.PolicyIDs, ", "))
	}
	if j.TargetKeyVersion != "" {
		fmt.Fprintf(w, "  target        %s\n", j.TargetKeyVersion)
	}
	fmt.Fprintf(w, "  planned       %d recordings, %d to change (%d bytes)\n", j.Planned, j.PlannedChanges, j.PlannedBytes)
	fmt.Fprintf(w, "  processed     %d   changed %d   skipped %d   errors %d\n", j.Processed, j.Changed, j.Skipped, j.Errors)
	reasons := make([]string, 0, len(j.SkippedBy))
	for k, v := range j.SkippedBy {
		reasons = append(reasons, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(reasons)
	if len(reasons) > 0 {
		fmt.Fprintf(w, "  skipped by    %s\n", strings.Join(reasons, " "))
	}
	fmt.Fprintf(w, "  bytes         %d changed, %d media bytes read\n", j.Bytes, j.MediaBytesRead)
	fmt.Fprintf(w, "  rate          %.1f recordings/s", j.RatePerSecond)
	if j.ETASeconds > 0 {
		fmt.Fprintf(w, "   ETA %s", (time.Duration(j.ETASeconds * float64(time.Second))).Round(time.Second))
	}
	fmt.Fprintln(w)
	for _, e := range j.RecentErrors {
		fmt.Fprintf(w, "  error         %s: %s\n", e.RecordingID, e.Error)
	}
	if j.Error != "" {
		fmt.Fprintf(w, "  failed        %s\n", j.Error)
	}
}

// watchJob polls a job and draws its progress until it is final.
func watchJob(ctx context.Context, c *apiClient, id string, out, bar io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	var pb *progressbar.ProgressBar
	for {
		var j api.JobJSON
		rctx, cancel := context.WithTimeout(ctx, apiTimeout)
		err := c.getJSON(rctx, "/api/v2/recordings/reencrypt/"+id, &j)
		cancel()
		if err != nil {
			return err
		}
		total := max(j.Planned, j.Processed, 1)
		if pb == nil {
			pb = progressbar.NewOptions64(total, progressbar.OptionSetWriter(bar), progressbar.OptionSetDescription(j.Mode),
				progressbar.OptionShowCount(), progressbar.OptionSetItsString("recordings"), progressbar.OptionShowIts(),
				progressbar.OptionSetPredictTime(true), progressbar.OptionFullWidth(), progressbar.OptionClearOnFinish())
		}
		pb.ChangeMax64(total)
		_ = pb.Set64(j.Processed)
		if store.JobFinal(j.Status) {
			_ = pb.Finish()
			fmt.Fprintln(bar)
			printJob(out, j)
			return jobExit(j)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func newJobsStart(f *apiFlags) *cobra.Command {
	var (
		policies       []string
		target, mode   string
		from, to       string
		dryRun, follow bool
		rate           float64
	)
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start a re-encryption job (rewrap by default; --dry-run only counts)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			body := map[string]any{"policyIds": policies, "targetKeyVersion": target, "dryRun": dryRun, "mode": mode}
			if rate > 0 {
				body["ratePerSecond"] = rate
			}
			for name, v := range map[string]string{"from": from, "to": to} {
				if v == "" {
					continue
				}
				if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
					return fmt.Errorf("--%s %q: want an RFC 3339 time such as 2026-03-01T00:00:00Z", name, v)
				}
				body[name] = v
			}
			b, _ := json.Marshal(body)
			ctx, cancel := cmdContext(cmd)
			defer cancel()
			r, err := c.do(ctx, http.MethodPost, "/api/v2/recordings/reencrypt", b, nil)
			if err != nil {
				return err
			}
			var j api.JobJSON
			if err := json.Unmarshal(r.Body, &j); err != nil {
				return err
			}
			if !follow {
				fmt.Fprintln(cmd.OutOrStdout(), j.ID)
				return nil
			}
			return watchJob(cmd.Context(), c, j.ID, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringSliceVar(&policies, "policy", nil, "policy id (repeat or comma-separate; default: every recording)")
	cmd.Flags().StringVar(&target, "target-version", "", "key version recordings must end under (default: the key's current version)")
	cmd.Flags().StringVar(&mode, "mode", "rewrap", "rewrap (replace the key envelope only) or reseal (new DEK, media re-sealed)")
	cmd.Flags().StringVar(&from, "from", "", "only recordings started at or after this RFC 3339 time")
	cmd.Flags().StringVar(&to, "to", "", "only recordings started before this RFC 3339 time")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "count what would change and change nothing")
	cmd.Flags().BoolVarP(&follow, "watch", "w", false, "follow the job with a progress bar")
	cmd.Flags().Float64Var(&rate, "rate", 0, "recordings per second (default: the gateway's)")
	return cmd
}

func newJobsCancel(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel JOB_ID",
		Short: "Cancel a job; recordings already changed stay changed, all stay readable",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			ctx, cancel := cmdContext(cmd)
			defer cancel()
			r, err := c.do(ctx, http.MethodDelete, "/api/v2/recordings/reencrypt/"+args[0], nil, nil)
			if err != nil {
				return err
			}
			var j api.JobJSON
			if err := json.Unmarshal(r.Body, &j); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "job %s: %s (cancel requested by %s)\n", j.ID, j.Status, j.CancelledBy)
			return nil
		},
	}
}
