package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/playback/offline"
)

// streamClient fetches exports; the command's context bounds it.
var streamClient = &http.Client{}

// exportFlags are the flags of mediaseal export.
type exportFlags struct {
	id, format, out, track string
	approval, tokenFile    string
	api                    string
	salvage                bool
}

// newExport plays a recording back into a file. Playback follows the
// ceremony: a customer-key recording (and, unless
// the stored recording.playback rule has platformPlayback false, a platform-key one) needs an
// approved recording.playback proposal, and is then exported by the
// running gateway's playback API, which checks the caller's
// recording:playback token, claims the approval (single use) and audits
// the playback. Decrypting offline would leave that rule to whoever runs
// this binary with the data directory and KMS credentials, so gated
// recordings are never decrypted here. Recordings that need no quorum
// export offline, audited in the same log.
func newExport(g *globals) *cobra.Command {
	f := &exportFlags{}
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Decrypt, verify and export a recording (wav, wav-stereo, pcap, ogg, ivf, h264, webm, mkv); customer-key recordings need an approved playback",
		Long: "Customer-key recordings (and platform-key ones unless the stored recording.playback rule has platformPlayback false) need an\n" +
			"approved recording.playback proposal: propose it (mediaseal approvals propose --operation recording.playback\n" +
			"--target ID), have it approved, then run export with --approval-id and a recording:playback token\n" +
			"(--token-file, or MEDIASEAL_TOKEN). The running gateway then exports it once, and audits it.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Write to a temporary file next to the target and rename, so a
			// failed verification never leaves a partial export behind.
			tmp, err := os.CreateTemp(dirOf(f.out), ".mediaseal-export-*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			summary, err := f.export(cmd, g, tmp)
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if err := os.Rename(tmp.Name(), f.out); err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), summary)
			return nil
		},
	}
	cmd.Flags().StringVar(&f.id, "recording", "", "recording id")
	cmd.Flags().StringVar(&f.format, "format", "wav-stereo", "wav, wav-stereo, pcap, ogg (Opus track), ivf (VP8 track), h264 (H.264 track), webm (VP8 + Opus) or mkv (VP8/H.264 + Opus/G.711)")
	cmd.Flags().StringVar(&f.out, "out", "", "output file")
	cmd.Flags().StringVar(&f.track, "track", "", "track label for mono wav, ogg or ivf (default: the first track, of the right kind for ogg and ivf)")
	cmd.Flags().StringVar(&f.approval, "approval-id", "", "approved recording.playback proposal for this recording (exports through the gateway's API)")
	cmd.Flags().StringVar(&f.tokenFile, "token-file", "", "file holding a recording:playback access token (default $MEDIASEAL_TOKEN; see mediaseal token)")
	cmd.Flags().StringVar(&f.api, "api", "", "gateway base URL for --approval-id (default http(s)://<api.addr>)")
	cmd.Flags().BoolVar(&f.salvage, "salvage", false, "export what verifies of a recording that is not whole (cut, still recording, or not matching the index); audited as a salvage, never reported as verified")
	_ = cmd.MarkFlagRequired("recording")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// export writes the recording to w and returns the summary to print.
func (f *exportFlags) export(cmd *cobra.Command, g *globals, w io.Writer) (string, error) {
	if f.approval != "" {
		return f.exportOnline(cmd, g, w)
	}
	ctx := cmd.Context()
	cfg, err := g.load()
	if err != nil {
		return "", err
	}
	// The stores and the control plane's rules, not a gateway: nothing
	// is recovered, uploaded or served by an export.
	st, err := offline.Open(ctx, cfg)
	if err != nil {
		return "", err
	}
	defer st.Close()
	cp, err := st.ControlPlane(ctx, cfg)
	if err != nil {
		return "", err
	}
	rec, err := st.Index.GetRecording(ctx, f.id)
	if err != nil {
		return "", fmt.Errorf("recording %s: %w", f.id, err)
	}
	platform := st.Platform.Names(rec.KeyProvider, rec.KeyID) // as the API's gate
	needQuorum := true
	if platform { // the shared store's rule, as the API's gate reads it
		if needQuorum, err = cp.PlatformPlaybackNeedsQuorum(ctx); err != nil {
			return "", err
		}
	}
	if needQuorum {
		what := "a customer-key recording (" + rec.KeyProvider + ":" + rec.KeyID + ")"
		if platform {
			what = "a platform-key recording and platformPlaybackQuorum is on (the recording.playback rule in the shared store)"
		}
		return "", fmt.Errorf("recording %s is %s: exporting it needs an approved playback. Propose it with\n"+
			"  mediaseal approvals propose --operation recording.playback --target %s --reason '...'\n"+
			"have it approved by the quorum, then run\n"+
			"  mediaseal export --recording %s --approval-id <id> --token-file <recording:playback token> --out %s",
			f.id, what, f.id, f.id, f.out)
	}
	log, err := cp.OpenAuditLog(ctx)
	if err != nil {
		return "", err
	}
	res, err := st.Playback.Export(ctx, f.id, f.format, f.track, playback.Options{Salvage: f.salvage}, w)
	ev := audit.Event{Actor: cliActor(), Action: "recording.export", Target: f.id, Outcome: audit.OutcomeSuccess,
		Details: map[string]any{"format": f.format, "track": f.track, "keyProvider": rec.KeyProvider, "keyId": rec.KeyID, "offline": true,
			"salvage": f.salvage, "readStatus": res.Status.String(), "indexStatus": res.IndexStatus, "verified": res.Verified, "chunks": res.Chunks}}
	if len(res.Problems) > 0 {
		ev.Details["problems"] = res.Problems
	}
	if res.WAVFallback != "" {
		ev.Details["wavFallback"] = res.WAVFallback
	}
	if err != nil {
		ev.Outcome, ev.Details["reason"] = audit.OutcomeFailure, err.Error()
	}
	if _, aerr := log.Record(context.WithoutCancel(ctx), ev); aerr != nil {
		return "", errors.Join(err, fmt.Errorf("audit: %w", aerr))
	}
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if res.Verified {
		fmt.Fprintf(&b, "%s: %s (%s, %d chunks, verified against the index)\n", f.out, f.format, res.Status, res.Chunks)
	} else {
		fmt.Fprintf(&b, "%s: %s (%s, %d chunks) SALVAGED, not the whole recording: %s\n", f.out, f.format, res.Status, res.Chunks, strings.Join(res.Problems, "; "))
	}
	if res.WAVFallback != "" {
		fmt.Fprintf(&b, "  built in memory, not streamed: %s\n", res.WAVFallback)
	}
	for _, t := range res.Tracks {
		fmt.Fprintf(&b, "  track %-8s %6.2fs  packets %d  lost %d  duplicates %d  reordered %d  paused %s\n",
			t.Label, t.Duration.Seconds(), t.Packets, t.Lost, t.Duplicates, t.Reordered, t.Paused)
	}
	return b.String(), nil
}

// exportOnline streams the export from the gateway's playback API, which
// verifies every chunk before it sends a byte and aborts the connection if
// verification fails mid-way.
func (f *exportFlags) exportOnline(cmd *cobra.Command, g *globals, w io.Writer) (string, error) {
	tok := os.Getenv("MEDIASEAL_TOKEN")
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return "", fmt.Errorf("token: %w", err)
		}
		tok = strings.TrimSpace(string(b))
	}
	if tok == "" {
		return "", fmt.Errorf("--approval-id needs a recording:playback access token: give --token-file or set MEDIASEAL_TOKEN")
	}
	base, err := g.apiURL(f.api)
	if err != nil {
		return "", err
	}
	q := url.Values{"format": {f.format}}
	if f.track != "" {
		q.Set("track", f.track)
	}
	if f.salvage {
		q.Set("salvage", "true")
	}
	u := base + "/api/v2/recordings/" + url.PathEscape(f.id) + "/media?" + q.Encode()
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set(api.HeaderApproval, f.approval)
	resp, err := streamClient.Do(req) // no overall timeout: a long call streams for a while
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return "", fmt.Errorf("playback of %s: %s: %s", f.id, resp.Status, strings.TrimSpace(string(body)))
	}
	// Only the gateway's word that the export is the whole recording makes
	// it verified; a gateway that does not say so is not believed.
	status, verified := resp.Header.Get(api.HeaderRecordingStatus), resp.Header.Get(api.HeaderRecordingVerified) == "true"
	if !verified && !f.salvage {
		return "", fmt.Errorf("playback of %s: the gateway did not confirm the export is the whole recording (status %q); nothing written to %s", f.id, status, f.out)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return "", fmt.Errorf("playback of %s broke off after %d bytes (nothing written to %s): %w", f.id, n, f.out, err)
	}
	if !verified {
		return fmt.Sprintf("%s: %s, %d bytes, %s SALVAGED, not the whole recording; exported by %s under approval %s\n",
			f.out, f.format, n, status, base, f.approval), nil
	}
	return fmt.Sprintf("%s: %s, %d bytes, %s, verified and exported by %s under approval %s\n", f.out, f.format, n, status, base, f.approval), nil
}

// cliActor names the operator of an offline export in the audit log.
func cliActor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return "cli:" + name
}
