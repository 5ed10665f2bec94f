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

// modeGateway is Result.Mode of a run against mediaseal.
const modeGateway = "gateway"

// Run performs one load run against the gateway as configured (runLoad):
// spawned (cfg.Spawn.Bin, its recordings verified offline afterwards) or
// remote (cfg.Target, counted from the end-of-session summaries).
func Run(ctx context.Context, cfg RunConfig) (*Result, error) {
	return runLoad(ctx, cfg, &gatewayTarget{})
}

// gatewayTarget is a load run's gateway: the optional delayed local KMS,
// the spawned or remote gateway and its sessions.
type gatewayTarget struct {
	lk       *LocalKMS
	dir      string
	sp       *Spawned
	cl       *Client
	sessions []*Session
	refs     []StreamRef
}

func (*gatewayTarget) mode() string        { return modeGateway }
func (*gatewayTarget) accepts(Codec) error { return nil }

func (g *gatewayTarget) open(ctx context.Context, cfg RunConfig, codec Codec, res *Result) ([]*Stream, int, error) {
	pid := 0
	if cfg.KMSLatency > 0 {
		root := cfg.RepoRoot
		if root == "" {
			r, err := FindRepoRoot()
			if err != nil {
				return nil, 0, err
			}
			root = r
		}
		var err error
		if g.lk, err = StartLocalKMS(ctx, root, cfg.KMSLatency); err != nil {
			return nil, 0, err
		}
		cfg.Spawn.KMS = &SpawnKMS{Endpoint: g.lk.ProxyEndpoint(), Region: g.lk.Region, KeyARN: g.lk.KeyARN,
			Timeout: max(5*time.Second, 2*cfg.KMSLatency+time.Second)}
		res.KMSLatencyMs = ms(cfg.KMSLatency.Seconds())
	}
	if cfg.Spawn.Bin != "" {
		dir, err := os.MkdirTemp("", "mediaseal-bench-")
		if err != nil {
			return nil, 0, err
		}
		g.dir, cfg.Spawn.Dir = dir, dir
		if g.sp, err = Spawn(ctx, cfg.Spawn); err != nil {
			return nil, 0, err
		}
		g.cl, pid = NewClient(g.sp.API, g.sp.Token), g.sp.Pid()
		if m, err := readMem(pid); err == nil {
			res.RSSIdle, res.RSSAnonIdle = m.rss, m.anon
		}
	} else {
		tok, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return nil, 0, err
		}
		g.cl = NewClient(cfg.Target, strings.TrimSpace(string(tok)))
	}
	var streams []*Stream
	var err error
	g.sessions, g.refs, streams, err = openSessions(ctx, g.cl, cfg, codec, res)
	if err != nil {
		endAll(context.Background(), g.cl, g.sessions, cfg.Concurrency)
		return nil, 0, err
	}
	return streams, pid, nil
}

func (g *gatewayTarget) drained(_ context.Context, ports map[uint16]bool, _ *Result) UDPStats {
	udp, _ := ReadUDPStats(ports)
	return udp
}

func (g *gatewayTarget) finish(ctx context.Context, cfg RunConfig, gr GenResult, res *Result) error {
	if page, err := g.cl.Metrics(ctx); err == nil {
		scrapeInto(res, page, false)
	}
	sums := endAll(ctx, g.cl, g.sessions, cfg.Concurrency)
	if page, err := g.cl.Metrics(ctx); err == nil {
		scrapeInto(res, page, true)
	}
	for i := range g.refs {
		g.refs[i].Sent = gr.PerStream[i]
	}
	if g.sp == nil {
		// A remote gateway's recordings are not decrypted here: recorded
		// packets come from the end-of-session summaries.
		for _, s := range sums {
			d := int64(0)
			for _, v := range s.Dropped {
				d += v
			}
			res.RecordedPkts += s.Packets - d
		}
		res.LagP99 = round(res.IngestLag.P99+res.FlushDelayP99, 3)
		return nil
	}
	if err := g.sp.Stop(5 * time.Minute); err != nil {
		res.Errors = append(res.Errors, "gateway stop: "+err.Error())
	}
	if g.lk != nil {
		// Verification measures the recordings, not the injected delay.
		rt := g.lk.Proxy.RoundTrips()
		res.KMSRoundTrip = &rt
		g.lk.Proxy.SetDelay(0)
	}
	v, err := VerifyOffline(ctx, g.sp.ConfigPath, g.refs, cfg.VerifyWorkers)
	if err != nil {
		return err
	}
	res.Verified = v.Incomplete == 0 && len(v.Errors) == 0
	res.Incomplete, res.RecordedPkts, res.LossyStreams = v.Incomplete, v.Recorded, v.Lossy
	res.IngestLag = v.IngestLag.Summarize()
	res.RecordingKeys = v.Keys
	res.Errors = append(res.Errors, v.Errors...)
	if v.Foreign > 0 || v.Duplicates > 0 {
		res.Errors = append(res.Errors, fmt.Sprintf("%d foreign and %d duplicate packet records", v.Foreign, v.Duplicates))
	}
	res.LagP99 = round(res.IngestLag.P99+res.FlushDelayP99, 3)
	return nil
}

// close stops the gateway, removes its data and then stops the KMS,
// last because verification unwraps through it.
func (g *gatewayTarget) close() {
	if g.sp != nil {
		_ = g.sp.Stop(5 * time.Minute)
	}
	if g.dir != "" {
		_ = os.RemoveAll(g.dir)
	}
	if g.lk != nil {
		g.lk.Close()
	}
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
		sessions[i], errs[i] = cl.Create(ctx, fmt.Sprintf("bench-%d-%d", t0.UnixNano(), i), codec.Name, cfg.TracksPerCall, cfg.SRTP)
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
			st := &Stream{Dest: d, SSRC: ssrc, Start: start}
			if cfg.SRTP != "" {
				if st.enc, err = streamSender(s, t); err != nil {
					return sessions, nil, nil, err
				}
			}
			streams = append(streams, st)
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
