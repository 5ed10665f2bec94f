package main

import (
	"github.com/spf13/cobra"

	"github.com/mediaseal/mediaseal/bench"
)

func newRun() *cobra.Command {
	f := &runFlags{}
	var peer string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "One load run: sessions, paced RTP, end, verify, report",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.resolve()
			if err != nil {
				return err
			}
			if peer != "" {
				return runPeer(cmd, f, cfg, peer)
			}
			res, err := bench.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			res.WriteTable(cmd.OutOrStdout())
			if f.jsonPath != "" {
				return bench.WriteJSON(f.jsonPath, res)
			}
			return nil
		},
	}
	f.register(cmd.Flags(), true)
	cmd.Flags().StringVar(&peer, "peer", "", "instead of the gateway, measure a peer with the same generator: rtpengine (pcap recording; see docs/bench.md)")
	return cmd
}

func newBaseline() *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "baseline",
		Short: "The same generator into a plain UDP sink that only counts packets",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.resolve()
			if err != nil {
				return err
			}
			if cfg.GenCPUs != "" {
				if err := bench.PinSelf(cfg.GenCPUs); err != nil {
					return err
				}
			}
			res, err := bench.Baseline(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			res.WriteTable(cmd.OutOrStdout())
			if f.jsonPath != "" {
				return bench.WriteJSON(f.jsonPath, res)
			}
			return nil
		},
	}
	f.register(cmd.Flags(), false)
	return cmd
}
