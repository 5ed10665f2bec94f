// Command mediaseal is the streaming media encryption gateway: `serve` runs
// it; the other subcommands are operator tools (export, verify, ...).
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/gateway"
	"github.com/mediaseal/mediaseal/kms/secmem"
)

// globals are the flags every subcommand shares.
type globals struct {
	configPath string
	dataDir    string
	caFile     string // --ca: CAs trusted for the HTTPS API (tlsclient.go)
}

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "mediaseal:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "mediaseal",
		Short:         "Streaming media encryption gateway for call recording",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&g.configPath, "config", "c", "", "config file (default: the embedded default)")
	root.PersistentFlags().StringVar(&g.dataDir, "data-dir", "", "data directory (overrides dataDir)")
	root.PersistentFlags().StringVar(&g.caFile, "ca", "", "PEM CA file trusted for the gateway's HTTPS API (default $"+envCA+")")
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return g.setupTLS() }
	root.AddCommand(newServe(g), newExport(g), newVerify(g))
	root.AddCommand(newPolicies(g), newKeys(g), newRecordings(g))
	root.AddCommand(newToken(g), newApprovals(g), newAudit(g))
	root.AddCommand(newJobs(g))
	root.AddCommand(newEvents(g), newLegalHolds(g), newAudioHook(g))
	root.AddCommand(newQuorum(g))
	return root
}

// load reads the config and applies command-line overrides.
func (g *globals) load() (*config.Config, error) {
	cfg, err := config.Load(g.configPath)
	if err != nil {
		return nil, err
	}
	if g.dataDir != "" {
		cfg.SetDataDir(g.dataDir)
	}
	return cfg, nil
}

func newLogger(cfg *config.Config) (*zap.Logger, error) {
	var zc zap.Config
	if cfg.Log.Format == "json" {
		zc = zap.NewProductionConfig()
	} else {
		zc = zap.NewDevelopmentConfig()
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		zc.DisableStacktrace = true
	}
	lvl, err := zapcore.ParseLevel(cfg.Log.Level)
	if err != nil {
		return nil, err
	}
	zc.Level = zap.NewAtomicLevelAt(lvl)
	return zc.Build()
}

func newServe(g *globals) *cobra.Command {
	var apiAddr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway",
		RunE: func(cmd *cobra.Command, _ []string) error {
			// First: no core file, no ptrace or /proc/<pid>/mem by the same
			// user, for a process that will hold KEKs, DEKs and signing keys.
			if err := secmem.DisableCoreDumps(); err != nil {
				return err
			}
			cfg, err := g.load()
			if err != nil {
				return err
			}
			if apiAddr != "" {
				cfg.API.Addr = apiAddr
				// Validated again: --api-addr must not bypass the refusal
				// of a plain-HTTP API on a non-loopback address.
				if err := cfg.Validate(); err != nil {
					return err
				}
			}
			log, err := newLogger(cfg)
			if err != nil {
				return err
			}
			defer func() { _ = log.Sync() }()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			gw, err := gateway.New(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer gw.Close()
			// SIGHUP reloads the API certificate (api.tls) in place.
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go gw.ReloadTLSOn(ctx, hup)
			return gw.Run(ctx)
		},
	}
	cmd.Flags().StringVar(&apiAddr, "api-addr", "", "HTTP API address HOST:PORT (overrides api.addr)")
	return cmd
}

func dirOf(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i+1]
		}
	}
	return "."
}
