package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/mediaseal/mediaseal/bench/peers/ng"
)

// PeerRTPEngine is the --peer value of the rtpengine comparison.
const PeerRTPEngine = "rtpengine"

// rtpengineSSRCBase marks the peer run's streams (the gateway runs use
// 0x5EA10000 + n).
const rtpengineSSRCBase = 0x27E00000

// peerCall is one call set up on rtpengine: its id and the ports its legs
// send to (caller's first).
type peerCall struct {
	id    string
	dests []netip.AddrPort
}

// RunRTPEngine is the peer comparison: the same generator and report as
// Run, against rtpengine with pcap recording on instead of the gateway.
// It starts rtpengine (pc.CPUs pins it), sets up one call per
// cfg.TracksPerCall streams over NG (offer and answer with "record call";
// with 2 tracks both legs send), sends, deletes the calls, stops
// rtpengine and counts what its pcap files hold per SSRC and payload
// index, with each packet's lag (pcap timestamp − send time). cfg's
// Target and Spawn are ignored.
func RunRTPEngine(ctx context.Context, cfg RunConfig, pc RTPEngineConfig) (*Result, error) {
	cfg.Target, cfg.Spawn = "", SpawnConfig{Bin: PeerRTPEngine} // satisfies defaults; nothing is spawned
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if cfg.GenCPUs != "" {
		if err := PinSelf(cfg.GenCPUs); err != nil {
			return nil, err
		}
	}
	codec, _ := LookupCodec(cfg.Codec)
	if codec.ClockRate != 8000 {
		return nil, fmt.Errorf("%w: --peer rtpengine sends PCMU or PCMA", ErrConfig)
	}
	calls := cfg.Streams / cfg.TracksPerCall
	res := &Result{Mode: PeerRTPEngine, Streams: cfg.Streams, Calls: calls, Codec: codec.Name,
		PtimeMs: float64(cfg.Ptime) / 1e6, DurationS: cfg.Duration.Seconds(), Pinned: cfg.GenCPUs != "", LoadAvgStart: LoadAvg()}
	if cfg.BaselineDuration > 0 {
		b, err := Baseline(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		res.BaselinePPS, res.BaselineLoss = b.RecordedPPS, b.LossRatio
	}
	if pc.PortMin == 0 {
		pc.PortMin = 20000
	}
	if pc.PortMax == 0 {
		pc.PortMax = min(pc.PortMin+8*calls+1000, 65535)
	}
	if pc.Dir == "" {
		dir, err := os.MkdirTemp("", "mediaseal-bench-rtpengine-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		pc.Dir = dir
	}
	eng, err := StartRTPEngine(ctx, pc)
	if err != nil {
		return nil, err
	}
	defer eng.Stop(30 * time.Second)
	pid := eng.Pid()
	res.RSSIdle, _ = RSSBytes(pid)
	cl, err := ng.Dial(eng.NG)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	// rtpengine forwards what it records to the other leg: the SDPs name a
	// socket that is never read, so forwarding costs rtpengine what it
	// costs in production and the bench nothing but the kernel's drop.
	hole, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	defer hole.Close()
	_ = hole.SetReadBuffer(4096)
	pcalls, err := setupPeerCalls(ctx, cl, cfg, codec, hole.LocalAddr().(*net.UDPAddr).AddrPort(), res)
	if err != nil {
		deletePeerCalls(context.Background(), cl, pcalls, cfg.Concurrency)
		return nil, err
	}
	var streams []*Stream
	index := map[uint32]int{}
	ports := map[uint16]bool{}
	for _, c := range pcalls {
		for _, d := range c.dests {
			n := len(streams)
			ssrc := uint32(rtpengineSSRCBase + n)
			start := time.Duration(0)
			if cfg.Ramp > 0 {
				start = time.Duration(int64(cfg.Ramp) * int64(n) / int64(cfg.Streams))
			}
			streams = append(streams, &Stream{Dest: d, SSRC: ssrc, Start: start})
			index[ssrc] = n
			ports[d.Port()] = true
		}
	}
	gen, err := NewGenerator(cfg.genConfig(codec), streams)
	if err != nil {
		return nil, err
	}
	var bar *progressbar.ProgressBar
	if cfg.Progress {
		bar = newBar(int64(cfg.Streams)*int64(cfg.packets()), fmt.Sprintf("%d streams → rtpengine", cfg.Streams))
		gen.cfg.Progress = func(n int64) { _ = bar.Set64(n) }
	}
	smp := startSampler(pid, ports)
	cpu0, _ := CPUSeconds(pid)
	self0, _ := CPUSeconds(os.Getpid())
	t0 := time.Now()
	gr, gerr := gen.Run(ctx)
	wall := time.Since(t0)
	cpu1, _ := CPUSeconds(pid)
	self1, _ := CPUSeconds(os.Getpid())
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(os.Stderr)
	}
	// Let rtpengine read what is still queued (a saturated rtpengine holds
	// seconds of backlog in its sockets; deleting the calls would discard
	// it), then read the kernel's drop counters while its sockets are open.
	time.Sleep(500 * time.Millisecond)
	udp, drained := drainUDP(ctx, ports, time.Minute)
	if drained > 0 {
		res.Errors = append(res.Errors, fmt.Sprintf("rtpengine took %s after the last send to drain its socket backlog", drained.Round(100*time.Millisecond)))
	}
	peak := smp.stop()
	res.KernelDrops, res.MaxRxQueue = udp.Drops, max(peak.rxQueue, udp.RxQueue)
	res.takeRecorderCPU(cpu1-cpu0, wall, gr.Sent, cfg.Ptime)
	res.RSS, res.Threads = peak.rss, peak.threads
	res.RSSPerStream = round(float64(peak.rss-res.RSSIdle)/float64(cfg.Streams), 0)
	res.takeGeneratorCPU(self1-self0, wall, gr.Sent)

	// Deleting a call finishes its pcap (--delete-delay=0); stopping the
	// daemon then closes anything left.
	if errs := deletePeerCalls(ctx, cl, pcalls, cfg.Concurrency); len(errs) > 0 {
		res.Errors = append(res.Errors, fmt.Sprintf("%d deletes failed, first: %v", len(errs), errs[0]))
	}
	if err := eng.Stop(time.Minute); err != nil {
		res.Errors = append(res.Errors, "rtpengine stop: "+err.Error())
	}
	count, err := CountPcaps(filepath.Join(eng.RecDir, "pcaps"), index, gr.PerStream)
	if err != nil {
		return nil, err
	}
	if count.Files != calls {
		res.Errors = append(res.Errors, fmt.Sprintf("%d pcap files for %d calls", count.Files, calls))
	}
	res.RecordedPkts, res.LossyStreams, res.BytesWritten = count.Recorded, count.Lossy, count.Bytes
	res.IngestLag = count.Lag.Summarize()
	res.LagP99 = res.IngestLag.P99
	res.Errors = append(res.Errors, count.Errors...)
	if count.Foreign > 0 || count.Duplicates > 0 {
		res.Errors = append(res.Errors, fmt.Sprintf("%d foreign and %d duplicate packets in the pcaps", count.Foreign, count.Duplicates))
	}
	res.takeGenerator(gr)
	res.OfferedPPS = round(float64(cfg.Streams)/cfg.Ptime.Seconds(), 0)
	res.LostPackets = res.SentPackets - res.RecordedPkts
	if res.SentPackets > 0 {
		res.LossRatio = float64(res.LostPackets) / float64(res.SentPackets)
	}
	res.RecordedPPS = round(float64(res.RecordedPkts)/max(cfg.Duration.Seconds(), gr.Elapsed.Seconds()), 0)
	if res.BaselinePPS > 0 {
		res.BaselineRatio = round(res.RecordedPPS/res.BaselinePPS, 3)
	}
	res.Valid, res.InvalidReason = validity(cfg, gr, gerr)
	res.LoadAvgEnd = LoadAvg()
	return res, nil
}

// setupPeerCalls sets up the calls (Concurrency at a time): an offer
// naming the caller's address and an answer naming the callee's, both
// with recording on. The caller sends to the port the answer names
// (track 0); with 2 tracks the callee also sends, to the port the offer
// names. "asymmetric" keeps rtpengine forwarding to the SDP addresses
// instead of latching onto the generator's sockets.
func setupPeerCalls(ctx context.Context, cl *ng.Client, cfg RunConfig, codec Codec, forward netip.AddrPort, res *Result) ([]peerCall, error) {
	calls := make([]peerCall, cfg.Streams/cfg.TracksPerCall)
	errs := make([]error, len(calls))
	sdp := ng.AudioSDP(forward, codec.PayloadType, codec.Name, int(cfg.Ptime/time.Millisecond))
	opts := ng.Dict{"record call": "yes", "flags": []string{"asymmetric"}}
	var bar *progressbar.ProgressBar
	if cfg.Progress {
		bar = newBar(int64(len(calls)), "rtpengine calls")
	}
	t0 := time.Now()
	forEach(len(calls), cfg.Concurrency, bar, func(i int) {
		calls[i], errs[i] = setupPeerCall(ctx, cl, fmt.Sprintf("bench-%d-%d", t0.UnixNano(), i), sdp, opts, cfg.TracksPerCall)
	})
	res.SessionsPerSec = round(float64(len(calls))/time.Since(t0).Seconds(), 0)
	return calls, errors.Join(errs...)
}

func setupPeerCall(ctx context.Context, cl *ng.Client, id, sdp string, opts ng.Dict, tracks int) (peerCall, error) {
	c := peerCall{id: id}
	offer, err := cl.Offer(ctx, id, "caller", sdp, opts)
	if err != nil {
		return c, err
	}
	answer, err := cl.Answer(ctx, id, "caller", "callee", sdp, opts)
	if err != nil {
		return c, err
	}
	toCallee, err := ng.MediaAddrs(offer)
	if err != nil {
		return c, err
	}
	toCaller, err := ng.MediaAddrs(answer)
	if err != nil {
		return c, err
	}
	c.dests = []netip.AddrPort{toCaller[0]}
	if tracks == 2 {
		c.dests = append(c.dests, toCallee[0])
	}
	return c, nil
}

// deletePeerCalls deletes every call that was set up.
func deletePeerCalls(ctx context.Context, cl *ng.Client, calls []peerCall, conc int) []error {
	var (
		mu   sync.Mutex
		errs []error
	)
	forEach(len(calls), conc, nil, func(i int) {
		if calls[i].id == "" {
			return
		}
		if _, err := cl.Delete(ctx, calls[i].id, ""); err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	})
	return errs
}

// drainUDP waits until the sockets on ports have nothing queued (or their
// backlog stops shrinking for 5 s, or limit passes) and returns their
// figures then and how long it waited.
func drainUDP(ctx context.Context, ports map[uint16]bool, limit time.Duration) (UDPStats, time.Duration) {
	t0 := time.Now()
	udp, _ := ReadUDPStats(ports)
	last, stuck := udp.RxQueue, t0
	for udp.RxQueue > 0 && time.Since(t0) < limit && time.Since(stuck) < 5*time.Second && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
		udp, _ = ReadUDPStats(ports)
		if udp.RxQueue < last {
			last, stuck = udp.RxQueue, time.Now()
		}
	}
	if udp.RxQueue == 0 && time.Since(t0) < 200*time.Millisecond {
		return udp, 0
	}
	return udp, time.Since(t0)
}
