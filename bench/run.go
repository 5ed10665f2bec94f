package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Metric names the report reads from the gateway's /metrics.
const (
	metricFlushDelay   = "mediaseal_flush_delay_seconds"
	metricFlushTook    = "mediaseal_flush_seconds"
	metricSpoolCommits = "mediaseal_spool_commits_total"
	metricDEK          = "mediaseal_kms_request_duration_seconds"
	metricFirstDurable = "mediaseal_first_durable_seconds"
	metricSealedBytes  = "mediaseal_sealed_bytes_total"
	metricFallbacks    = "mediaseal_kms_fallbacks_total"
)

// Run performs one load run as configured: optional baseline, sessions,
// paced RTP, end, verification and the report. A run that could not
// measure (the generator fell behind, sessions refused) returns a Result
// marked invalid together with the reason, not an error.
func Run(ctx context.Context, cfg RunConfig) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if cfg.GenCPUs != "" {
		if err := PinSelf(cfg.GenCPUs); err != nil {
			return nil, err
		}
	}
	codec, _ := LookupCodec(cfg.Codec)
	res := &Result{Mode: "gateway", Streams: cfg.Streams, Calls: cfg.Streams / cfg.TracksPerCall, Codec: codec.Name,
		PtimeMs: float64(cfg.Ptime) / 1e6, DurationS: cfg.Duration.Seconds(), Pinned: cfg.GenCPUs != "", LoadAvgStart: LoadAvg()}
	if cfg.BaselineDuration > 0 {
		b, err := Baseline(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		res.BaselinePPS, res.BaselineLoss = b.RecordedPPS, b.LossRatio
	}
	var (
		sp  *Spawned
		cl  *Client
		pid int
	)
	var lk *LocalKMS
	if cfg.KMSLatency > 0 {
		root := cfg.RepoRoot
		if root == "" {
			r, err := FindRepoRoot()
			if err != nil {
				return nil, err
			}
			root = r
		}
		var err error
		if lk, err = StartLocalKMS(ctx, root, cfg.KMSLatency); err != nil {
			return nil, err
		}
		// Closed last: verification unwraps through it.
		defer lk.Close()
		cfg.Spawn.KMS = &SpawnKMS{Endpoint: lk.ProxyEndpoint(), Region: lk.Region, KeyARN: lk.KeyARN,
			Timeout: max(5*time.Second, 2*cfg.KMSLatency+time.Second)}
		res.KMSLatencyMs = ms(cfg.KMSLatency.Seconds())
	}
	if cfg.Spawn.Bin != "" {
		dir, err := os.MkdirTemp("", "mediaseal-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		cfg.Spawn.Dir = dir
		if sp, err = Spawn(ctx, cfg.Spawn); err != nil {
			return nil, err
		}
		defer sp.Stop(5 * time.Minute)
		cl, pid = NewClient(sp.API, sp.Token), sp.Pid()
		res.RSSIdle, _ = RSSBytes(pid)
	} else {
		tok, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return nil, err
		}
		cl = NewClient(cfg.Target, strings.TrimSpace(string(tok)))
	}
	sessions, refs, streams, err := openSessions(ctx, cl, cfg, codec, res)
	if err != nil {
		endAll(context.Background(), cl, sessions, cfg.Concurrency)
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
		bar = newBar(int64(cfg.Streams)*int64(cfg.packets()), fmt.Sprintf("%d streams", cfg.Streams))
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
	// Let the gateway read what is still queued, then read the kernel's
	// drop counters while the sockets are still open.
	time.Sleep(500 * time.Millisecond)
	udp, _ := ReadUDPStats(ports)
	peak := smp.stop()
	res.KernelDrops, res.MaxRxQueue = udp.Drops, max(peak.rxQueue, udp.RxQueue)
	if pid != 0 {
		res.takeRecorderCPU(cpu1-cpu0, wall, gr.Sent, cfg.Ptime)
		res.RSS, res.Threads = peak.rss, peak.threads
		res.RSSPerStream = round(float64(peak.rss-res.RSSIdle)/float64(cfg.Streams), 0)
	}
	res.takeGeneratorCPU(self1-self0, wall, gr.Sent)
	if page, err := cl.Metrics(ctx); err == nil {
		scrapeInto(res, page, false)
	}
	sums := endAll(ctx, cl, sessions, cfg.Concurrency)
	if page, err := cl.Metrics(ctx); err == nil {
		scrapeInto(res, page, true)
	}
	for i := range refs {
		refs[i].Sent = gr.PerStream[i]
	}
	res.takeGenerator(gr)
	active := cfg.Duration.Seconds()
	res.OfferedPPS = round(float64(cfg.Streams)/cfg.Ptime.Seconds(), 0)
	if sp != nil {
		if err := sp.Stop(5 * time.Minute); err != nil {
			res.Errors = append(res.Errors, "gateway stop: "+err.Error())
		}
		if lk != nil {
			// Verification measures the recordings, not the injected delay.
			rt := lk.Proxy.RoundTrips()
			res.KMSRoundTrip = &rt
			lk.Proxy.SetDelay(0)
		}
		v, err := VerifyOffline(ctx, sp.ConfigPath, refs, cfg.VerifyWorkers)
		if err != nil {
			return nil, err
		}
		res.Verified = v.Incomplete == 0 && len(v.Errors) == 0
		res.Incomplete, res.RecordedPkts, res.LossyStreams = v.Incomplete, v.Recorded, v.Lossy
		res.IngestLag = v.IngestLag.Summarize()
		res.RecordingKeys = v.Keys
		res.Errors = append(res.Errors, v.Errors...)
		if v.Foreign > 0 || v.Duplicates > 0 {
			res.Errors = append(res.Errors, fmt.Sprintf("%d foreign and %d duplicate packet records", v.Foreign, v.Duplicates))
		}
	} else {
		// A remote gateway's recordings are not decrypted here: recorded
		// packets come from the end-of-session summaries.
		for _, s := range sums {
			d := int64(0)
			for _, v := range s.Dropped {
				d += v
			}
			res.RecordedPkts += s.Packets - d
		}
	}
	res.LostPackets = res.SentPackets - res.RecordedPkts
	if res.SentPackets > 0 {
		res.LossRatio = float64(res.LostPackets) / float64(res.SentPackets)
	}
	// A generator that fell behind stretched the run: rates use the real
	// sending time when it is longer than asked.
	res.RecordedPPS = round(float64(res.RecordedPkts)/max(active, gr.Elapsed.Seconds()), 0)
	if res.BaselinePPS > 0 {
		res.BaselineRatio = round(res.RecordedPPS/res.BaselinePPS, 3)
	}
	res.LagP99 = round(res.IngestLag.P99+res.FlushDelayP99, 3)
	res.Valid, res.InvalidReason = validity(cfg, gr, gerr)
	res.LoadAvgEnd = LoadAvg()
	return res, nil
}

// validity says whether the generator kept its schedule.
func validity(cfg RunConfig, gr GenResult, err error) (bool, string) {
	switch {
	case err != nil:
		return false, "generator: " + err.Error()
	case gr.Lateness.Quantile(0.99) > cfg.MaxLateness:
		return false, fmt.Sprintf("generator fell behind: p99 lateness %s > %s", gr.Lateness.Quantile(0.99).Round(time.Microsecond), cfg.MaxLateness)
	case gr.SendErrs > 0:
		return false, fmt.Sprintf("generator: %d datagrams refused by the kernel", gr.SendErrs)
	}
	return true, ""
}

func scrapeInto(res *Result, page []byte, final bool) {
	s, err := ParseScrape(page)
	if err != nil {
		res.Errors = append(res.Errors, "metrics: "+err.Error())
		return
	}
	if final {
		res.BytesWritten = int64(s.Sum(metricSealedBytes, nil))
		res.KMSFallbacks = int64(s.Sum(metricFallbacks, nil))
		return
	}
	res.FlushDelayP50 = ms(s.Quantile(metricFlushDelay, 0.5, nil))
	res.FlushDelayP99 = ms(s.Quantile(metricFlushDelay, 0.99, nil))
	res.FlushTookP99 = ms(s.Quantile(metricFlushTook, 0.99, nil))
	res.SpoolCommits = int64(s.Sum(metricSpoolCommits, nil))
	res.DEKLatencyP50 = ms(s.Quantile(metricDEK, 0.5, nil))
	res.DEKLatencyP99 = ms(s.Quantile(metricDEK, 0.99, nil))
	res.DEKLatencyMean = ms(s.Mean(metricDEK, nil))
	res.FirstDurP50 = ms(s.Quantile(metricFirstDurable, 0.5, nil))
	res.FirstDurP99 = ms(s.Quantile(metricFirstDurable, 0.99, nil))
}

// openSessions creates the calls (Concurrency at a time) and lays out one
// generator stream per track, ramped over cfg.Ramp.
func openSessions(ctx context.Context, cl *Client, cfg RunConfig, codec Codec, res *Result) ([]*Session, []StreamRef, []*Stream, error) {
	calls := cfg.Streams / cfg.TracksPerCall
	sessions := make([]*Session, calls)
	errs := make([]error, calls)
	var bar *progressbar.ProgressBar
	if cfg.Progress {
		bar = newBar(int64(calls), "sessions")
	}
	t0 := time.Now()
	forEach(calls, cfg.Concurrency, bar, func(i int) {
		sessions[i], errs[i] = cl.Create(ctx, fmt.Sprintf("bench-%d-%d", t0.UnixNano(), i), codec.Name, cfg.TracksPerCall)
	})
	res.SessionsPerSec = round(float64(calls)/time.Since(t0).Seconds(), 0)
	if err := errors.Join(errs...); err != nil {
		return sessions, nil, nil, err
	}
	var refs []StreamRef
	var streams []*Stream
	for i, s := range sessions {
		dests, err := s.Dests()
		if err != nil {
			return sessions, nil, nil, err
		}
		for t, d := range dests {
			n := len(streams)
			ssrc := uint32(0x5EA10000) + uint32(n)
			start := time.Duration(0)
			if cfg.Ramp > 0 {
				start = time.Duration(int64(cfg.Ramp) * int64(n) / int64(cfg.Streams))
			}
			streams = append(streams, &Stream{Dest: d, SSRC: ssrc, Start: start})
			refs = append(refs, StreamRef{RecordingID: sessions[i].RecordingID, Track: uint8(t), SSRC: ssrc})
		}
	}
	return sessions, refs, streams, nil
}

// endAll ends every session that was created and returns the summaries.
func endAll(ctx context.Context, cl *Client, sessions []*Session, conc int) []EndSummary {
	out := make([]EndSummary, len(sessions))
	forEach(len(sessions), conc, nil, func(i int) {
		if sessions[i] != nil {
			out[i], _ = cl.End(ctx, sessions[i].SessionID)
		}
	})
	return out
}

// Baseline runs the same generator with the same streams into the plain
// UDP sink for cfg.BaselineDuration (or cfg.Duration when zero).
func Baseline(ctx context.Context, cfg RunConfig) (*Result, error) {
	if cfg.Spawn.Bin == "" && cfg.Target == "" {
		cfg.Spawn.Bin = "baseline" // satisfies defaults; nothing is spawned
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if cfg.BaselineDuration > 0 {
		cfg.Duration = cfg.BaselineDuration
	}
	codec, _ := LookupCodec(cfg.Codec)
	sink, err := NewSink(netip.MustParseAddr("127.0.0.1"), cfg.Streams, 256<<10)
	if err != nil {
		return nil, err
	}
	defer sink.Close()
	var streams []*Stream
	for i, a := range sink.Addrs() {
		start := time.Duration(0)
		if cfg.Ramp > 0 {
			start = time.Duration(int64(cfg.Ramp) * int64(i) / int64(cfg.Streams))
		}
		streams = append(streams, &Stream{Dest: a, SSRC: uint32(i), Start: start})
	}
	gen, err := NewGenerator(cfg.genConfig(codec), streams)
	if err != nil {
		return nil, err
	}
	if cfg.Progress {
		bar := newBar(int64(cfg.Streams)*int64(cfg.packets()), "baseline")
		gen.cfg.Progress = func(n int64) { _ = bar.Set64(n) }
		defer func() { _ = bar.Finish(); fmt.Fprintln(os.Stderr) }()
	}
	res := &Result{Mode: "baseline", Streams: cfg.Streams, Calls: cfg.Streams, Codec: codec.Name,
		PtimeMs: float64(cfg.Ptime) / 1e6, DurationS: cfg.Duration.Seconds(), LoadAvgStart: LoadAvg(), Pinned: cfg.GenCPUs != ""}
	self0, _ := CPUSeconds(os.Getpid())
	t0 := time.Now()
	gr, gerr := gen.Run(ctx)
	wall := time.Since(t0)
	self1, _ := CPUSeconds(os.Getpid())
	time.Sleep(300 * time.Millisecond)
	udp, _ := ReadUDPStats(sink.Ports())
	res.KernelDrops, res.MaxRxQueue = udp.Drops, udp.RxQueue
	res.takeGenerator(gr)
	res.RecordedPkts = sink.Received()
	res.LostPackets = res.SentPackets - res.RecordedPkts
	if res.SentPackets > 0 {
		res.LossRatio = float64(res.LostPackets) / float64(res.SentPackets)
	}
	res.OfferedPPS = round(float64(cfg.Streams)/cfg.Ptime.Seconds(), 0)
	res.RecordedPPS = round(float64(res.RecordedPkts)/max(cfg.Duration.Seconds(), gr.Elapsed.Seconds()), 0)
	// Generator and sink share this process: its CPU is both.
	res.takeGeneratorCPU(self1-self0, wall, gr.Sent)
	res.Valid, res.InvalidReason = validity(cfg, gr, gerr)
	res.LoadAvgEnd = LoadAvg()
	if math.IsNaN(res.LossRatio) {
		res.LossRatio = 0
	}
	return res, nil
}

func newBar(max int64, what string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(max, progressbar.OptionSetDescription(what), progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionSetWidth(30))
}
