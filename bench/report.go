package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one run's report (JSON field names as the issue lists them).
type Result struct {
	Mode    string `json:"mode"` // gateway or baseline
	Streams int    `json:"streams"`
	Calls   int    `json:"calls"`
	Codec   string `json:"codec"`
	// SRTP is the suite the tracks were sent under ("" plain RTP);
	// PlainCPUPerPacket is the gateway's CPU per packet of the plain run
	// the same invocation made first, and SRTPCPURatio this run's over it.
	SRTP              string  `json:"srtp,omitempty"`
	PlainCPUPerPacket float64 `json:"plain_cpu_us_per_packet,omitempty"`
	SRTPCPURatio      float64 `json:"srtp_cpu_ratio,omitempty"`
	// Ingest is "audiohook" for a run of AudioHook sessions; CPUPerFrame
	// is the gateway's CPU per stereo frame, RTPCPUPerFrame the same audio
	// as two RTP packets in the run the same invocation made first, and
	// IngestCPURatio the first over the second.
	Ingest         string  `json:"ingest,omitempty"`
	CPUPerFrame    float64 `json:"cpu_us_per_frame,omitempty"`
	RTPCPUPerFrame float64 `json:"rtp_cpu_us_per_frame,omitempty"`
	IngestCPURatio float64 `json:"ingest_cpu_ratio,omitempty"`
	PtimeMs        float64 `json:"ptime_ms"`
	DurationS      float64 `json:"duration_s"`
	OfferedPPS     float64 `json:"offered_pps"`
	RecordedPPS    float64 `json:"recorded_pps"`
	SentPackets    int64   `json:"sent_packets"`
	RecordedPkts   int64   `json:"recorded_packets"`
	LostPackets    int64   `json:"lost_packets"`
	LossRatio      float64 `json:"loss_ratio"`
	LossyStreams   int     `json:"lossy_streams"`
	Verified       bool    `json:"verified_by_decryption"`
	Incomplete     int     `json:"incomplete_recordings"`
	IngestLag      Summary `json:"ingest_lag"`
	FlushDelayP50  float64 `json:"flush_delay_p50_ms"`
	FlushDelayP99  float64 `json:"flush_delay_p99_ms"`
	// FlushTookP99 is the flush itself (seal, write, commit), without the
	// wait for a flush worker; SpoolCommits the spool's commits so far.
	FlushTookP99   float64        `json:"flush_took_p99_ms"`
	SpoolCommits   int64          `json:"spool_commits"`
	LagP99         float64        `json:"recording_lag_p99_ms"`
	DEKLatencyP50  float64        `json:"dek_latency_p50_ms"`
	DEKLatencyP99  float64        `json:"dek_latency_p99_ms"`
	DEKLatencyMean float64        `json:"dek_latency_mean_ms"`
	KMSRoundTrip   *Summary       `json:"kms_round_trip,omitempty"`
	KMSLatencyMs   float64        `json:"kms_injected_latency_ms,omitempty"`
	KMSFallbacks   int64          `json:"kms_fallbacks"`
	RecordingKeys  map[string]int `json:"recording_keys,omitempty"`
	FirstDurP50    float64        `json:"first_durable_p50_ms"`
	FirstDurP99    float64        `json:"first_durable_p99_ms"`
	GatewayCPU     float64        `json:"gateway_cpu_percent"` // 100 = one core
	GeneratorCPU   float64        `json:"generator_cpu_percent"`
	// CPU time per datagram sent while sending, in µs. On loopback the
	// kernel's receive path (softirq) runs in the sender's context, so it
	// is in the generator's figure, not the gateway's.
	GatewayCPUPerPacket   float64 `json:"gateway_cpu_us_per_packet,omitempty"`
	GeneratorCPUPerPacket float64 `json:"generator_cpu_us_per_packet"`
	// StreamsPerCoreEst is one core-second divided by the gateway's CPU per
	// stream-second at this load: how many streams a core dedicated to the
	// gateway would carry at this cost. An estimate, not a measurement.
	StreamsPerCoreEst float64 `json:"gateway_streams_per_core_est,omitempty"`
	RSSIdle           int64   `json:"rss_idle_bytes"`
	RSS               int64   `json:"rss_bytes"` // peak while streaming
	RSSPerStream      float64 `json:"rss_per_stream_bytes"`
	// Anonymous memory (heap, stacks) only, without the binary's pages.
	RSSAnonIdle      int64    `json:"rss_anon_idle_bytes,omitempty"`
	RSSAnonPerStream float64  `json:"rss_anon_per_stream_bytes,omitempty"`
	Threads          int      `json:"gateway_threads_peak"`
	BytesWritten     int64    `json:"bytes_written"`
	KernelDrops      int64    `json:"kernel_udp_drops"`
	MaxRxQueue       int64    `json:"max_rx_queue_bytes"`
	GenLateness      Summary  `json:"generator_lateness"`
	GenNice          int      `json:"generator_nice"`
	SendErrors       int64    `json:"send_errors"`
	Valid            bool     `json:"valid"`
	InvalidReason    string   `json:"invalid_reason,omitempty"`
	BaselinePPS      float64  `json:"baseline_pps,omitempty"`
	BaselineLoss     float64  `json:"baseline_loss_ratio,omitempty"`
	BaselineRatio    float64  `json:"baseline_ratio,omitempty"`
	SessionsPerSec   float64  `json:"session_create_per_s,omitempty"`
	LoadAvgStart     float64  `json:"loadavg_start"`
	LoadAvgEnd       float64  `json:"loadavg_end"`
	Pinned           bool     `json:"pinned"`
	Errors           []string `json:"errors,omitempty"`
}

// WriteJSON writes r (or a list of results) to path.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func ms(sec float64) float64 {
	if math.IsNaN(sec) {
		return 0
	}
	return math.Round(sec*1e6) / 1e3
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// WriteTable prints the human table.
func (r *Result) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, f string, a ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(f, a...)) }
	valid := "yes"
	if !r.Valid {
		valid = "NO: " + r.InvalidReason
	}
	runNote, sentNote := peerHead(r)
	row("run", "%s%s, %d streams (%d calls), %s %gms, %gs", r.Mode, runNote, r.Streams, r.Calls, r.Codec, r.PtimeMs, r.DurationS)
	row("valid", "%s", valid)
	if r.SRTP != "" {
		row("SRTP", "%s: gateway CPU per packet %.2f µs against %.2f µs plain in the same invocation (×%.2f)",
			r.SRTP, r.GatewayCPUPerPacket, r.PlainCPUPerPacket, r.SRTPCPURatio)
	}
	if r.Ingest == IngestAudioHook {
		row("AudioHook", "gateway CPU per stereo frame %.2f µs against %.2f µs for the same audio as RTP in the same invocation (×%.2f)",
			r.CPUPerFrame, r.RTPCPUPerFrame, r.IngestCPURatio)
	}
	row("offered / recorded pps", "%.0f / %.0f", r.OfferedPPS, r.RecordedPPS)
	row("sent / recorded packets", "%d / %d (lost %d, loss %.6f %%, lossy streams %d)%s", r.SentPackets, r.RecordedPkts, r.LostPackets, 100*r.LossRatio, r.LossyStreams, sentNote)
	if r.Mode == PeerRTPEngine {
		peerRows(row, r)
	}
	if r.Mode == modeGateway || r.Mode == modeAudioHook {
		row("verified by decryption", "%v (incomplete recordings %d)", r.Verified, r.Incomplete)
		if r.Mode == modeAudioHook {
			row("ingest lag", "n/a: AudioHook audio is placed by the protocol's position, not by arrival")
		} else {
			row("ingest lag ms p50/p99/max", "%.2f / %.2f / %.2f", r.IngestLag.P50, r.IngestLag.P99, r.IngestLag.Max)
		}
		row("flush delay ms p50/p99", "%.2f / %.2f (the flush itself p99 %.2f; %d spool commits)", r.FlushDelayP50, r.FlushDelayP99, r.FlushTookP99, r.SpoolCommits)
		row("recording lag p99 ms", "%.2f (ingest p99 + flush delay p99; beyond the flush interval)", r.LagP99)
		row("DEK latency ms p50/p99/mean", "%.2f / %.2f / %.2f (p50/p99 interpolated in the gateway's buckets; mean exact)", r.DEKLatencyP50, r.DEKLatencyP99, r.DEKLatencyMean)
		if r.KMSLatencyMs > 0 {
			row("injected KMS latency", "%.0f ms per request (local-kms behind a delaying proxy), fallbacks %d", r.KMSLatencyMs, r.KMSFallbacks)
		}
		if r.KMSRoundTrip != nil {
			row("KMS round trip at the proxy ms p50/p99/max", "%.2f / %.2f / %.2f (%d requests)", r.KMSRoundTrip.P50, r.KMSRoundTrip.P99, r.KMSRoundTrip.Max, r.KMSRoundTrip.N)
		}
		if len(r.RecordingKeys) > 0 {
			row("recordings by key provider", "%v", r.RecordingKeys)
		}
		row("first durable chunk ms p50/p99", "%.2f / %.2f", r.FirstDurP50, r.FirstDurP99)
		row("gateway CPU", "%.1f %% of one core, %.2f µs per packet (one core: ~%.0f streams at this cost)",
			r.GatewayCPU, r.GatewayCPUPerPacket, r.StreamsPerCoreEst)
		row("gateway RSS", "%s peak, %s idle, %.1f KiB per stream (%.1f KiB anonymous)", mib(r.RSS), mib(r.RSSIdle),
			r.RSSPerStream/1024, r.RSSAnonPerStream/1024)
		row("gateway OS threads (peak)", "%d", r.Threads)
		row("bytes written (sealed)", "%s", mib(r.BytesWritten))
		row("session creates per s", "%.0f", r.SessionsPerSec)
	}
	row("kernel UDP drops", "%d (max rx queue %s)", r.KernelDrops, mib(r.MaxRxQueue))
	row("generator", "lateness ms p50/p99/max %.2f / %.2f / %.2f, CPU %.1f %% (%.2f µs per packet), send errors %d, nice %d",
		r.GenLateness.P50, r.GenLateness.P99, r.GenLateness.Max, r.GeneratorCPU, r.GeneratorCPUPerPacket, r.SendErrors, r.GenNice)
	if r.BaselinePPS > 0 {
		row("baseline sink pps", "%.0f (loss %.6f %%), ratio recorded/baseline %.3f", r.BaselinePPS, 100*r.BaselineLoss, r.BaselineRatio)
	}
	row("machine load (1 min)", "%.2f at start, %.2f at end, pinned %v", r.LoadAvgStart, r.LoadAvgEnd, r.Pinned)
	if len(r.Errors) > 0 {
		row("errors", "%s", strings.Join(r.Errors, "; "))
	}
	tw.Flush()
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func seconds(d time.Duration) float64 { return d.Seconds() }

// takeGenerator records what the generator did: packets, errors, lateness
// and the priority it ran at (with the reason when it could not be set).
// takeRecorderCPU sets the recorder's (the gateway's or a peer's) share of
// a core and its cost per packet from the CPU seconds it used in wall,
// while sent packets went out at one per ptime per stream.
func (r *Result) takeRecorderCPU(sec float64, wall time.Duration, sent int64, ptime time.Duration) {
	r.GatewayCPU = round(100*sec/wall.Seconds(), 1)
	if sent > 0 {
		r.GatewayCPUPerPacket = round(sec*1e6/float64(sent), 2)
		perStreamSecond := r.GatewayCPUPerPacket * float64(time.Second/ptime) // µs of CPU per stream per second
		r.StreamsPerCoreEst = round(1e6/perStreamSecond, 0)
	}
}

// takeGeneratorCPU sets the generator's share of a core and its cost per
// packet from the harness's own CPU seconds in wall.
func (r *Result) takeGeneratorCPU(sec float64, wall time.Duration, sent int64) {
	r.GeneratorCPU = round(100*sec/wall.Seconds(), 1)
	if sent > 0 {
		r.GeneratorCPUPerPacket = round(sec*1e6/float64(sent), 2)
	}
}

func (r *Result) takeGenerator(gr GenResult) {
	r.SentPackets, r.SendErrors = gr.Sent, gr.SendErrs
	r.GenLateness = gr.Lateness.Summarize()
	r.GenNice = gr.Nice
	if gr.NiceErr != nil {
		r.Errors = append(r.Errors, gr.NiceErr.Error())
	}
}
