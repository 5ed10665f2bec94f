package main

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/playback/offline"
)

// openStore opens the control-plane store the config names (no gateway).
func (g *globals) openStore(cmd *cobra.Command) (*store.SQL, error) {
	cfg, err := g.load()
	if err != nil {
		return nil, err
	}
	sc := store.Config{SQLitePath: cfg.SQLitePath()}
	if cfg.Store.Driver == "postgres" {
		sc = store.Config{PostgresDSN: cfg.Store.DSN}
	}
	return store.Open(cmd.Context(), sc)
}

func newAudit(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Verify or export the hash-chained audit log"}
	cmd.AddCommand(newAuditVerify(g), newAuditExport(g), newAuditKeys(g), newAuditAnchors(g))
	return cmd
}

func newAuditVerify(g *globals) *cobra.Command {
	var file, pubkeys, anchorFile string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the audit chain against its signed checkpoints and the heads anchored outside the database; name the first missing or altered entry",
		Long: `verify recomputes the hash chain, checks every signed checkpoint and the
heads anchored outside the database (the configured audit.anchor, or the
auditor's copy given with --anchor), and names the first missing or
altered entry. Give the audit keys the auditor exported at the ceremony
(--keys): keys read from the database prove nothing against its holder.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			stderr := cmd.ErrOrStderr()
			pinned, err := audit.ReadPinnedKeys(pubkeys)
			if err != nil {
				return err
			}
			if pinned == nil {
				fmt.Fprintln(stderr, "WARNING: no --keys: the audit keys are read from the database, whose holder can add a key and re-sign a forged chain; give the keys exported by the auditor")
			}
			heads, from, err := g.anchoredHeads(cmd, anchorFile, file != "")
			if err != nil {
				return err
			}
			if len(heads) == 0 {
				fmt.Fprintf(stderr, "WARNING: no anchored head (%s): entries cut from the log's end, with their checkpoints, cannot be detected\n", from)
			}
			var rep audit.Report
			if file != "" {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				if rep, err = audit.VerifyExport(f, pinned, heads...); err != nil {
					return fmt.Errorf("audit log TAMPERED: %w", err)
				}
			} else {
				st, err := g.openStore(cmd)
				if err != nil {
					return err
				}
				defer st.Close()
				keys := pinned
				if keys == nil {
					if keys, err = audit.PublicKeys(cmd.Context(), st); err != nil {
						return err
					}
				}
				if rep, err = audit.VerifyStore(cmd.Context(), st, keys, heads...); err != nil {
					return fmt.Errorf("audit log TAMPERED: %w", err)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "audit log intact: %d entries, head %d %s, %d signed checkpoints matched, %d anchored heads matched (newest %d, %s)\n",
				rep.Entries, rep.HeadSeq, rep.HeadHash, rep.Checkpoints, rep.Anchored, rep.AnchoredSeq, from)
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "verify an exported log (mediaseal audit export) instead of the store")
	cmd.Flags().StringVar(&pubkeys, "keys", "", "file of the auditor's audit keys (kid=base64 per line, from mediaseal audit keys export); the database's keys are then ignored")
	cmd.Flags().StringVar(&pubkeys, "pubkeys", "", "same as --keys")
	_ = cmd.Flags().MarkDeprecated("pubkeys", "use --keys")
	cmd.Flags().StringVar(&anchorFile, "anchor", "", "file of anchored heads (the auditor's copy, or an anchor file) instead of the configured audit.anchor")
	return cmd
}

// anchoredHeads reads the heads to verify against: from the file given,
// else from the configured anchor (not for an export, which may come
// from another gateway: give --anchor). from names where they came from.
func (g *globals) anchoredHeads(cmd *cobra.Command, path string, export bool) ([]store.AuditCheckpoint, string, error) {
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, "", err
		}
		hs, err := audit.DecodeHeads(b)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", path, err)
		}
		return hs, "file:" + path, nil
	}
	if export {
		return nil, "no --anchor", nil
	}
	cfg, err := g.load()
	if err != nil {
		return nil, "", err
	}
	a, err := offline.AuditAnchor(cmd.Context(), cfg)
	if err != nil || a == nil {
		return nil, "audit.anchor.backend none", err
	}
	hs, err := a.Heads(cmd.Context())
	if err != nil {
		return nil, "", fmt.Errorf("read the audit anchor %s: %w", a, err)
	}
	return hs, a.String(), nil
}

// storeAuditKeys opens the store and reads the audit keys it records
// (the caller closes the store).
func (g *globals) storeAuditKeys(cmd *cobra.Command) (*store.SQL, map[string]ed25519.PublicKey, error) {
	st, err := g.openStore(cmd)
	if err != nil {
		return nil, nil, err
	}
	keys, err := audit.PublicKeys(cmd.Context(), st)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, keys, nil
}

func newAuditExport(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the audit keys, checkpoints and entries as JSON lines for offline verification",
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, keys, err := g.storeAuditKeys(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			return writeOut(cmd, out, os.O_TRUNC, func(w io.Writer) error { return audit.Export(cmd.Context(), st, keys, w) })
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output file")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
