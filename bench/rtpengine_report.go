package bench

// peerRows are the rows of a peer run's table (rtpengine) between the
// shared head and tail of WriteTable, with the peer's own meaning.
func peerRows(row func(k, f string, a ...any), r *Result) {
	row("recording lag ms p50/p99/max", "%.2f / %.2f / %.2f (pcap timestamp − send time)", r.IngestLag.P50, r.IngestLag.P99, r.IngestLag.Max)
	row("rtpengine CPU", "%.1f %% of one core, %.2f µs per packet (one core: ~%.0f streams at this cost)",
		r.GatewayCPU, r.GatewayCPUPerPacket, r.StreamsPerCoreEst)
	row("rtpengine RSS", "%s peak, %s idle, %.1f KiB per stream", mib(r.RSS), mib(r.RSSIdle), r.RSSPerStream/1024)
	row("rtpengine threads (peak)", "%d", r.Threads)
	row("bytes written (pcap)", "%s", mib(r.BytesWritten))
	row("call setups per s", "%.0f (offer + answer over NG)", r.SessionsPerSec)
}

// peerHead is what the run and sent rows add for a peer run.
func peerHead(r *Result) (run, sent string) {
	if r.Mode != PeerRTPEngine {
		return "", ""
	}
	return " (pcap recording, userspace)", ", counted in the pcap files"
}
