package bench

import (
	"context"
	"fmt"
	"io"
)

// SweepConfig runs increasing loads.
type SweepConfig struct {
	Run      RunConfig
	From, To int
	Step     int
	// MaxLoss is the loss ratio a passing step may have (0.0001 = 0.01 %).
	MaxLoss float64
	// Beyond is how many failing steps to run after the first failure, to
	// see saturation (the baseline ratio there).
	Beyond int
	// Runner runs one step; nil runs the gateway (Run). A peer's runner
	// (RunRTPEngine) sweeps the peer with the same generator.
	Runner func(context.Context, RunConfig) (*Result, error)
}

// SweepResult is every step and the largest passing load.
type SweepResult struct {
	Steps      []*Result `json:"steps"`
	MaxStreams int       `json:"max_streams_loss_free"` // largest valid N with loss ≤ MaxLoss
	MaxLoss    float64   `json:"max_loss_ratio"`
}

// Passed reports whether a step counts as loss-free.
func (c SweepConfig) Passed(r *Result) bool {
	return r.Valid && r.LossRatio <= c.MaxLoss && r.KernelDrops == 0
}

// Sweep runs From, From+Step, ... To and stops Beyond steps after the first
// failing one. Each step's table goes to log as it finishes.
func Sweep(ctx context.Context, c SweepConfig, log io.Writer) (*SweepResult, error) {
	if c.Step <= 0 || c.From <= 0 || c.To < c.From {
		return nil, fmt.Errorf("%w: sweep --from %d --to %d --step %d", ErrConfig, c.From, c.To, c.Step)
	}
	run := c.Runner
	if run == nil {
		run = Run
	}
	out := &SweepResult{MaxLoss: c.MaxLoss}
	failures := 0
	for n := c.From; n <= c.To; n += c.Step {
		rc := c.Run
		rc.Streams = n - n%max(rc.TracksPerCall, 1)
		r, err := run(ctx, rc)
		if err != nil {
			return out, fmt.Errorf("%d streams: %w", n, err)
		}
		out.Steps = append(out.Steps, r)
		r.WriteTable(log)
		fmt.Fprintln(log)
		if c.Passed(r) {
			out.MaxStreams = max(out.MaxStreams, r.Streams)
			continue
		}
		failures++
		if failures > c.Beyond {
			break
		}
	}
	return out, nil
}
