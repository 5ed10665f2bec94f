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

// RunRTPEngine is the peer comparison: the same run and report as Run
// (runLoad), against rtpengine with pcap recording on instead of the
// gateway. It starts rtpengine (pc.CPUs pins it), sets up one call per
// cfg.TracksPerCall streams over NG (offer and answer with "record call";
// with 2 tracks both legs send), sends, deletes the calls, stops
// rtpengine and counts what its pcap files hold per SSRC and payload
// index, with each packet's lag (pcap timestamp − send time). cfg's
// Target and Spawn are ignored.
func RunRTPEngine(ctx context.Context, cfg RunConfig, pc RTPEngineConfig) (*Result, error) {
	cfg.Target, cfg.Spawn = "", SpawnConfig{Bin: PeerRTPEngine} // satisfies defaults; nothing is spawned
	return runLoad(ctx, cfg, &rtpengineTarget{pc: pc})
}

// rtpengineTarget is a load run's rtpengine and its calls.
type rtpengineTarget struct {
	pc    RTPEngineConfig
	dir   string
	eng   *RTPEngine
	cl    *ng.Client
	hole  *net.UDPConn
	calls []peerCall
	index map[uint32]int // stream index by SSRC
}

func (*rtpengineTarget) mode() string { return PeerRTPEngine }

func (*rtpengineTarget) accepts(codec Codec) error {
	if codec.ClockRate != 8000 {
		return fmt.Errorf("%w: --peer rtpengine sends PCMU or PCMA", ErrConfig)
	}
	return nil
}

func (t *rtpengineTarget) open(ctx context.Context, cfg RunConfig, codec Codec, res *Result) ([]*Stream, int, error) {
	pc := &t.pc
	if pc.PortMin == 0 {
		pc.PortMin = 20000
	}
	if pc.PortMax == 0 {
		pc.PortMax = min(pc.PortMin+8*res.Calls+1000, 65535)
	}
	if pc.Dir == "" {
		dir, err := os.MkdirTemp("", "mediaseal-bench-rtpengine-")
		if err != nil {
			return nil, 0, err
		}
		t.dir, pc.Dir = dir, dir
	}
	var err error
	if t.eng, err = StartRTPEngine(ctx, *pc); err != nil {
		return nil, 0, err
	}
	pid := t.eng.Pid()
	res.RSSIdle, _ = RSSBytes(pid)
	if t.cl, err = ng.Dial(t.eng.NG); err != nil {
		return nil, 0, err
	}
	// rtpengine forwards what it records to the other leg: the SDPs name a
	// socket that is never read, so forwarding costs rtpengine what it
	// costs in production and the bench nothing but the kernel's drop.
	if t.hole, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		return nil, 0, err
	}
	_ = t.hole.SetReadBuffer(4096)
	t.calls, err = setupPeerCalls(ctx, t.cl, cfg, codec, t.hole.LocalAddr().(*net.UDPAddr).AddrPort(), res)
	if err != nil {
		deletePeerCalls(context.Background(), t.cl, t.calls, cfg.Concurrency)
		return nil, 0, err
	}
	var streams []*Stream
	t.index = map[uint32]int{}
	for _, c := range t.calls {
		for _, d := range c.dests {
			n := len(streams)
			ssrc := uint32(rtpengineSSRCBase + n)
			start := time.Duration(0)
			if cfg.Ramp > 0 {
				start = time.Duration(int64(cfg.Ramp) * int64(n) / int64(cfg.Streams))
			}
			streams = append(streams, &Stream{Dest: d, SSRC: ssrc, Start: start})
			t.index[ssrc] = n
		}
	}
	return streams, pid, nil
}

// drained waits for rtpengine's socket backlog: a saturated rtpengine
// holds seconds of it, and deleting the calls would discard it.
func (t *rtpengineTarget) drained(ctx context.Context, ports map[uint16]bool, res *Result) UDPStats {
	udp, took := drainUDP(ctx, ports, time.Minute)
	if took > 0 {
		res.Errors = append(res.Errors, fmt.Sprintf("rtpengine took %s after the last send to drain its socket backlog", took.Round(100*time.Millisecond)))
	}
	return udp
}

func (t *rtpengineTarget) finish(ctx context.Context, cfg RunConfig, gr GenResult, res *Result) error {
	// Deleting a call finishes its pcap (--delete-delay=0); stopping the
	// daemon then closes anything left.
	if errs := deletePeerCalls(ctx, t.cl, t.calls, cfg.Concurrency); len(errs) > 0 {
		res.Errors = append(res.Errors, fmt.Sprintf("%d deletes failed, first: %v", len(errs), errs[0]))
	}
	if err := t.eng.Stop(time.Minute); err != nil {
		res.Errors = append(res.Errors, "rtpengine stop: "+err.Error())
	}
	count, err := CountPcaps(filepath.Join(t.eng.RecDir, "pcaps"), t.index, gr.PerStream)
	if err != nil {
		return err
	}
	if count.Files != res.Calls {
		res.Errors = append(res.Errors, fmt.Sprintf("%d pcap files for %d calls", count.Files, res.Calls))
	}
	res.RecordedPkts, res.LossyStreams, res.BytesWritten = count.Recorded, count.Lossy, count.Bytes
	res.IngestLag = count.Lag.Summarize()
	res.LagP99 = res.IngestLag.P99
	res.Errors = append(res.Errors, count.Errors...)
	if count.Foreign > 0 || count.Duplicates > 0 {
		res.Errors = append(res.Errors, fmt.Sprintf("%d foreign and %d duplicate packets in the pcaps", count.Foreign, count.Duplicates))
	}
	return nil
}

func (t *rtpengineTarget) close() {
	if t.hole != nil {
		_ = t.hole.Close()
	}
	if t.cl != nil {
		_ = t.cl.Close()
	}
	if t.eng != nil {
		_ = t.eng.Stop(30 * time.Second)
	}
	if t.dir != "" {
		_ = os.RemoveAll(t.dir)
	}
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
