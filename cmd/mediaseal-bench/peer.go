package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mediaseal/mediaseal/bench"
)

// runPeer is `run --peer rtpengine`: the same generator and report
// against rtpengine's recording instead of the gateway.
func runPeer(cmd *cobra.Command, f *runFlags, cfg bench.RunConfig, peer string) error {
	if err := checkPeer(f, cfg, peer); err != nil {
		return err
	}
	res, err := bench.RunRTPEngine(cmd.Context(), cfg, bench.RTPEngineConfig{CPUs: cfg.Spawn.CPUs})
	if err != nil {
		return err
	}
	res.WriteTable(cmd.OutOrStdout())
	if f.jsonPath != "" {
		return bench.WriteJSON(f.jsonPath, res)
	}
	return nil
}

// checkPeer refuses a peer other than rtpengine and the gateway-only flags.
func checkPeer(f *runFlags, cfg bench.RunConfig, peer string) error {
	if peer != bench.PeerRTPEngine {
		return fmt.Errorf("%w: --peer %q (want %s)", bench.ErrConfig, peer, bench.PeerRTPEngine)
	}
	if f.spawn || cfg.Target != "" || f.kmsLatency > 0 {
		return fmt.Errorf("%w: --peer starts rtpengine itself; no --spawn, --target or --kms-latency", bench.ErrConfig)
	}
	return nil
}

// peerRunner is the sweep's step runner for --peer.
func peerRunner(ctx context.Context, cfg bench.RunConfig) (*bench.Result, error) {
	return bench.RunRTPEngine(ctx, cfg, bench.RTPEngineConfig{CPUs: cfg.Spawn.CPUs})
}
