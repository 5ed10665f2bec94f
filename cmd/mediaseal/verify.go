package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mediaseal/mediaseal/playback/offline"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// newVerify checks a recording through playback over the gateway's
// stores: no gateway is built, nothing is seeded or served.
func newVerify(g *globals) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify every chunk of a recording and print its status",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			st, err := offline.Open(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			// A recording that is not whole prints what verified, then
			// fails with how it departs from the index.
			sum, err := st.Playback.Verify(cmd.Context(), id)
			if err == nil || sum.Status != seal.StatusUnknown {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s chunks=%d records=%d bytes=%d%s\n", id, sum.Status, sum.Chunks, sum.Records, sum.PlainBytes,
					keyLine(cmd.Context(), st.Index, id))
			}
			return err
		},
	}
	cmd.Flags().StringVar(&id, "recording", "", "recording id")
	_ = cmd.MarkFlagRequired("recording")
	return cmd
}
