package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WritePeerTable prints the human table of a peer run (rtpengine): the
// rows of WriteTable that apply to a peer, with the peer's own meaning.
func WritePeerTable(w io.Writer, r *Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, f string, a ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(f, a...)) }
	valid := "yes"
	if !r.Valid {
		valid = "NO: " + r.InvalidReason
	}
	row("run", "%s (pcap recording, userspace), %d streams (%d calls), %s %gms, %gs", r.Mode, r.Streams, r.Calls, r.Codec, r.PtimeMs, r.DurationS)
	row("valid", "%s", valid)
	row("offered / recorded pps", "%.0f / %.0f", r.OfferedPPS, r.RecordedPPS)
	row("sent / recorded packets", "%d / %d (lost %d, loss %.6f %%, lossy streams %d), counted in the pcap files", r.SentPackets, r.RecordedPkts, r.LostPackets, 100*r.LossRatio, r.LossyStreams)
	row("recording lag ms p50/p99/max", "%.2f / %.2f / %.2f (pcap timestamp − send time)", r.IngestLag.P50, r.IngestLag.P99, r.IngestLag.Max)
	row("rtpengine CPU", "%.1f %% of one core", r.GatewayCPU)
	row("rtpengine RSS", "%s peak, %s idle, %.1f KiB per stream", mib(r.RSS), mib(r.RSSIdle), r.RSSPerStream/1024)
	row("rtpengine threads (peak)", "%d", r.Threads)
	row("bytes written (pcap)", "%s", mib(r.BytesWritten))
	row("call setups per s", "%.0f (offer + answer over NG)", r.SessionsPerSec)
	row("kernel UDP drops", "%d (max rx queue %s)", r.KernelDrops, mib(r.MaxRxQueue))
	row("generator", "lateness ms p50/p99/max %.2f / %.2f / %.2f, CPU %.1f %%, send errors %d",
		r.GenLateness.P50, r.GenLateness.P99, r.GenLateness.Max, r.GeneratorCPU, r.SendErrors)
	if r.BaselinePPS > 0 {
		row("baseline sink pps", "%.0f (loss %.6f %%), ratio recorded/baseline %.3f", r.BaselinePPS, 100*r.BaselineLoss, r.BaselineRatio)
	}
	row("machine load (1 min)", "%.2f at start, %.2f at end, pinned %v", r.LoadAvgStart, r.LoadAvgEnd, r.Pinned)
	if len(r.Errors) > 0 {
		row("errors", "%s", strings.Join(r.Errors, "; "))
	}
	tw.Flush()
}
