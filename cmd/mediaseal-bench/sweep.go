package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mediaseal/mediaseal/bench"
	"github.com/mediaseal/mediaseal/bench/plot"
)

func newSweep() *cobra.Command {
	f := &runFlags{}
	var (
		sc      bench.SweepConfig
		pngPath string
		peer    string
	)
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Increasing loads: the largest stream count with loss ≤ --max-loss",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.resolve()
			if err != nil {
				return err
			}
			sc.Run = cfg
			if peer != "" {
				if err := checkPeer(f, cfg, peer); err != nil {
					return err
				}
				sc.Runner = peerRunner
			}
			sw, err := bench.Sweep(cmd.Context(), sc, cmd.OutOrStdout())
			if sw != nil && len(sw.Steps) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "largest loss-free load: %d streams (loss ≤ %g %%, valid, no kernel drops)\n", sw.MaxStreams, 100*sc.MaxLoss)
				if f.jsonPath != "" {
					if jerr := bench.WriteJSON(f.jsonPath, sw); jerr != nil {
						return jerr
					}
				}
				if pngPath != "" {
					if perr := plot.Sweep(pngPath, sw); perr != nil {
						return perr
					}
				}
			}
			return err
		},
	}
	f.register(cmd.Flags(), true)
	cmd.Flags().IntVar(&sc.From, "from", 500, "first stream count")
	cmd.Flags().IntVar(&sc.To, "to", 5000, "last stream count")
	cmd.Flags().IntVar(&sc.Step, "step", 500, "stream count step")
	cmd.Flags().Float64Var(&sc.MaxLoss, "max-loss", 0.0001, "loss ratio a passing step may have")
	cmd.Flags().IntVar(&sc.Beyond, "beyond", 1, "failing steps to run after the first (saturation)")
	cmd.Flags().StringVar(&pngPath, "png", "", "write a plot of loss, CPU and RSS against streams")
	cmd.Flags().StringVar(&peer, "peer", "", "sweep a peer instead of the gateway with the same generator: rtpengine")
	return cmd
}
