package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
)

// newAuditKeys is "audit keys export": the auditor takes the audit public
// keys once, at the ceremony, and later verifies with --keys, trusting
// nothing the database says about its own keys.
func newAuditKeys(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "The audit public keys, for the auditor to keep"}
	var out string
	export := &cobra.Command{
		Use:   "export",
		Short: "Write the audit public keys (kid=base64 per line) for mediaseal audit verify --keys",
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, keys, err := g.storeAuditKeys(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			if len(keys) == 0 {
				return fmt.Errorf("no audit key in the store yet (start the gateway once)")
			}
			kids := make([]string, 0, len(keys))
			for kid := range keys {
				kids = append(kids, kid)
			}
			slices.Sort(kids)
			return writeOut(cmd, out, os.O_TRUNC, func(w io.Writer) error {
				for _, kid := range kids {
					if _, err := fmt.Fprintf(w, "%s=%s\n", kid, base64.StdEncoding.EncodeToString(keys[kid])); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	export.Flags().StringVar(&out, "out", "", "output file (default standard output)")
	cmd.AddCommand(export)
	return cmd
}

// newAuditAnchors is "audit anchors export": the auditor's periodic copy
// of the anchored heads. With --out it appends only heads newer than the
// file's newest, so the copy grows and never loses what it had.
func newAuditAnchors(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "anchors", Short: "The signed heads anchored outside the database"}
	var out string
	export := &cobra.Command{
		Use:   "export",
		Short: "Append the anchored heads newer than --out's newest to --out (JSON lines), for audit verify --anchor",
		RunE: func(cmd *cobra.Command, _ []string) error {
			heads, from, err := g.anchoredHeads(cmd, "", false)
			if err != nil {
				return err
			}
			if len(heads) == 0 {
				return fmt.Errorf("no anchored head (%s)", from)
			}
			var newest int64
			if out != "" {
				if b, err := os.ReadFile(out); err == nil {
					have, err := audit.DecodeHeads(b)
					if err != nil {
						return fmt.Errorf("%s: %w", out, err)
					}
					for _, h := range have {
						newest = max(newest, h.Seq)
					}
				}
			}
			var fresh []store.AuditCheckpoint
			for _, h := range heads {
				if h.Seq > newest {
					fresh = append(fresh, h)
				}
			}
			if out != "" && heads[len(heads)-1].Seq < newest {
				return fmt.Errorf("the anchor's newest head %d is older than %s's newest %d: the anchor was rolled back", heads[len(heads)-1].Seq, out, newest)
			}
			w := func(w io.Writer) error {
				for _, h := range fresh {
					line, err := audit.EncodeHead(h)
					if err != nil {
						return err
					}
					if _, err := w.Write(append(line, '\n')); err != nil {
						return err
					}
				}
				return nil
			}
			if err := writeOut(cmd, out, os.O_APPEND, w); err != nil {
				return err
			}
			if out != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d new heads from %s appended to %s\n", len(fresh), from, out)
			}
			return nil
		},
	}
	export.Flags().StringVar(&out, "out", "", "the auditor's copy to append to (default standard output, every head)")
	cmd.AddCommand(export)
	return cmd
}

// writeOut writes to path (created 0600; mode is os.O_TRUNC or
// os.O_APPEND) or, without a path, to standard output.
func writeOut(cmd *cobra.Command, path string, mode int, write func(io.Writer) error) error {
	if path == "" {
		return write(cmd.OutOrStdout())
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|mode, 0o600)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
