package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mediaseal/mediaseal/internal/audit"
	"github.com/mediaseal/mediaseal/internal/store"
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
	cmd.AddCommand(newAuditVerify(g), newAuditExport(g))
	return cmd
}

// readPinned reads "kid=base64(public key)" lines: keys the operator
// trusts, which replace the keys stored with the log.
func readPinned(path string) (map[string]ed25519.PublicKey, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]ed25519.PublicKey{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		kid, k, ok := strings.Cut(strings.TrimSpace(line), "=")
		pub, err := base64.StdEncoding.DecodeString(k)
		if !ok || err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%s: want kid=base64(Ed25519 public key) per line", path)
		}
		out[kid] = pub
	}
	return out, nil
}

func newAuditVerify(g *globals) *cobra.Command {
	var file, pubkeys string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the audit chain and its signed checkpoints; name the first broken entry",
		RunE: func(cmd *cobra.Command, _ []string) error {
			pinned, err := readPinned(pubkeys)
			if err != nil {
				return err
			}
			var rep audit.Report
			if file != "" {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				rep, err = audit.VerifyExport(f, pinned)
				if err != nil {
					return err
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
				if rep, err = audit.VerifyStore(cmd.Context(), st, keys); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "audit log intact: %d entries, head %d %s, %d signed checkpoints matched\n",
				rep.Entries, rep.HeadSeq, rep.HeadHash, rep.Checkpoints)
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "verify an exported log (mediaseal audit export) instead of the store")
	cmd.Flags().StringVar(&pubkeys, "pubkeys", "", "file of trusted audit keys (kid=base64 per line) replacing the stored ones")
	return cmd
}

func newAuditExport(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the audit keys, checkpoints and entries as JSON lines for offline verification",
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := g.openStore(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			keys, err := audit.PublicKeys(cmd.Context(), st)
			if err != nil {
				return err
			}
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			if err := audit.Export(cmd.Context(), st, keys, f); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output file")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
