package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// loadTarget is what a load run sends to and measures: the gateway
// (spawned or remote, Run) or a peer recorder (rtpengine, RunRTPEngine).
// runLoad is the run around it, the same for every target, so the
// figures of the two compare like for like.
type loadTarget interface {
	// mode names the target in the report (Result.Mode) and progress bar.
	mode() string
	// accepts refuses a codec the target cannot record, before anything runs.
	accepts(codec Codec) error
	// open starts the recorder and sets up the calls: the streams to send
	// and the recorder's pid (0 when it is remote and cannot be measured).
	open(ctx context.Context, cfg RunConfig, codec Codec, res *Result) ([]*Stream, int, error)
	// drained returns the kernel's figures for ports once the recorder has
	// read what is still queued.
	drained(ctx context.Context, ports map[uint16]bool, res *Result) UDPStats
	// finish ends the calls, stops the recorder and counts what it
	// recorded (res.RecordedPkts, the lag, what only the target knows).
	finish(ctx context.Context, cfg RunConfig, gr GenResult, res *Result) error
	// close releases what open started; it runs when runLoad returns.
	close()
}

// runLoad performs one load run against t: optional baseline, calls,
// paced RTP, recorder CPU and memory sampled while sending, end, the
// target's count and the report. A run that could not measure (the
// generator fell behind) returns a Result marked invalid together with
// the reason, not an error.
func runLoad(ctx context.Context, cfg RunConfig, t loadTarget) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if cfg.GenCPUs != "" {
		if err := PinSelf(cfg.GenCPUs); err != nil {
			return nil, err
		}
	}
	codec, _ := LookupCodec(cfg.Codec)
	if err := t.accepts(codec); err != nil {
		return nil, err
	}
	res := &Result{Mode: t.mode(), Streams: cfg.Streams, Calls: cfg.Streams / cfg.TracksPerCall, Codec: codec.Name, SRTP: cfg.SRTP,
		PtimeMs: float64(cfg.Ptime) / 1e6, DurationS: cfg.Duration.Seconds(), Pinned: cfg.GenCPUs != "", LoadAvgStart: LoadAvg()}
	if cfg.BaselineDuration > 0 {
		// Before the recorder starts, so the two do not share the CPU.
		b, err := Baseline(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		res.BaselinePPS, res.BaselineLoss = b.RecordedPPS, b.LossRatio
	}
	defer t.close()
	streams, pid, err := t.open(ctx, cfg, codec, res)
	if err != nil {
		return nil, err
	}
	ports := map[uint16]bool{}
	for _, s := range streams {
		ports[s.Dest.Port()] = true
	}
	gen, err := NewGenerator(cfg.genConfig(codec), streams)
	if err != nil {
		return nil, err
	}
	var bar *progressbar.ProgressBar
	if cfg.Progress {
		what := fmt.Sprintf("%d streams", cfg.Streams)
		if t.mode() != modeGateway {
			what += " → " + t.mode()
		}
		bar = newBar(int64(cfg.Streams)*int64(cfg.packets()), what)
		gen.cfg.Progress = func(n int64) { _ = bar.Set64(n) }
	}
	smp := startSampler(pid, ports)
	cpu0, _ := CPUSeconds(pid)
	self0, _ := CPUSeconds(os.Getpid())
	var waitProfile func() error
	if cfg.ProfilePath != "" && cfg.Spawn.DebugAddr != "" {
		waitProfile = profileSteady(ctx, cfg.Spawn.DebugAddr, cfg.ProfilePath, cfg.Duration+cfg.Ramp)
	}
	t0 := time.Now()
	gr, gerr := gen.Run(ctx)
	wall := time.Since(t0)
	cpu1, _ := CPUSeconds(pid)
	if waitProfile != nil {
		if err := errors.Join(waitProfile(), fetchProfile(ctx, cfg.Spawn.DebugAddr, "heap", cfg.ProfilePath+".heap")); err != nil {
			res.Errors = append(res.Errors, "profile: "+err.Error())
		}
	}
	self1, _ := CPUSeconds(os.Getpid())
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(os.Stderr)
	}
	// Let the recorder read what is still queued, then read the kernel's
	// drop counters while the sockets are still open.
	time.Sleep(500 * time.Millisecond)
	udp := t.drained(ctx, ports, res)
	peak := smp.stop()
	res.KernelDrops, res.MaxRxQueue = udp.Drops, max(peak.rxQueue, udp.RxQueue)
	if pid != 0 {
		res.takeRecorderCPU(cpu1-cpu0, wall, gr.Sent, cfg.Ptime)
		res.RSS, res.Threads = peak.rss, peak.threads
		res.RSSPerStream = round(float64(peak.rss-res.RSSIdle)/float64(cfg.Streams), 0)
		if res.RSSAnonIdle > 0 {
			res.RSSAnonPerStream = round(float64(peak.anon-res.RSSAnonIdle)/float64(cfg.Streams), 0)
		}
	}
	res.takeGeneratorCPU(self1-self0, wall, gr.Sent)
	res.takeGenerator(gr)
	res.OfferedPPS = round(float64(cfg.Streams)/cfg.Ptime.Seconds(), 0)
	if err := t.finish(ctx, cfg, gr, res); err != nil {
		return nil, err
	}
	res.LostPackets = res.SentPackets - res.RecordedPkts
	if res.SentPackets > 0 {
		res.LossRatio = float64(res.LostPackets) / float64(res.SentPackets)
	}
	// A generator that fell behind stretched the run: rates use the real
	// sending time when it is longer than asked.
	res.RecordedPPS = round(float64(res.RecordedPkts)/max(cfg.Duration.Seconds(), gr.Elapsed.Seconds()), 0)
	if res.BaselinePPS > 0 {
		res.BaselineRatio = round(res.RecordedPPS/res.BaselinePPS, 3)
	}
	res.Valid, res.InvalidReason = validity(cfg, gr, gerr)
	res.LoadAvgEnd = LoadAvg()
	return res, nil
}
