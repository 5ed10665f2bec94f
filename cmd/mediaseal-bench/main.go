// Command mediaseal-bench is the load harness: `run` drives one load
// against a gateway (spawned or running), `sweep` increases the load until
// packets are lost, `baseline` measures the plain UDP sink alone. The
// logic lives in package bench; see docs/bench.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{
		Use:           "mediaseal-bench",
		Short:         "Load harness for the mediaseal gateway",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRun(), newSweep(), newBaseline())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "mediaseal-bench:", err)
		os.Exit(1)
	}
}
