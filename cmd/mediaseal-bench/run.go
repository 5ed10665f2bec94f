package main

import (
	"fmt"

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
			res, err := runSRTPOrPlain(cmd, cfg)
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

// runSRTPOrPlain is one run, or with --srtp a plain run and then the SRTP
// run of the same streams, the second reporting its CPU per packet
// against the first: SRTP's cost measured on the same machine, same load.
func runSRTPOrPlain(cmd *cobra.Command, cfg bench.RunConfig) (*bench.Result, error) {
	if cfg.Ingest == bench.IngestAudioHook {
		return runAudioHook(cmd, cfg)
	}
	if cfg.SRTP == "" {
		return bench.Run(cmd.Context(), cfg)
	}
	plainCfg := cfg
	plainCfg.SRTP = ""
	plain, err := bench.Run(cmd.Context(), plainCfg)
	if err != nil {
		return nil, fmt.Errorf("the plain run: %w", err)
	}
	plain.WriteTable(cmd.OutOrStdout())
	fmt.Fprintln(cmd.OutOrStdout())
	res, err := bench.Run(cmd.Context(), cfg)
	if err != nil {
		return nil, err
	}
	res.PlainCPUPerPacket = plain.GatewayCPUPerPacket
	if plain.GatewayCPUPerPacket > 0 {
		res.SRTPCPURatio = res.GatewayCPUPerPacket / plain.GatewayCPUPerPacket
	}
	if !plain.Valid {
		res.Valid, res.InvalidReason = false, "the plain run it is compared with was not valid: "+plain.InvalidReason
	}
	return res, nil
}

// runAudioHook is an RTP run of the same audio (each session's two
// channels as a two-track call) and then the AudioHook run, which reports
// its CPU per stereo frame against two RTP packets of the first.
func runAudioHook(cmd *cobra.Command, cfg bench.RunConfig) (*bench.Result, error) {
	rtpCfg := cfg
	rtpCfg.Ingest, rtpCfg.Streams, rtpCfg.TracksPerCall = bench.IngestRTP, 2*cfg.Streams, 2
	rtp, err := bench.Run(cmd.Context(), rtpCfg)
	if err != nil {
		return nil, fmt.Errorf("the RTP run: %w", err)
	}
	rtp.WriteTable(cmd.OutOrStdout())
	fmt.Fprintln(cmd.OutOrStdout())
	res, err := bench.RunAudioHook(cmd.Context(), cfg)
	if err != nil {
		return nil, err
	}
	res.RTPCPUPerFrame = 2 * rtp.GatewayCPUPerPacket
	if res.RTPCPUPerFrame > 0 {
		res.IngestCPURatio = res.CPUPerFrame / res.RTPCPUPerFrame
	}
	if !rtp.Valid {
		res.Valid, res.InvalidReason = false, "the RTP run it is compared with was not valid: "+rtp.InvalidReason
	}
	return res, nil
}
