package bench

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// TestRTPEngineRunRecordsEveryPacket is the peer mode end to end against a
// real rtpengine (installed by scripts/install-rtpengine.sh when missing):
// 5 calls with both legs sending (10 streams) for 3 s, and every packet
// found, once, in the pcap files rtpengine wrote. With recording off there
// are no pcap files and nothing is counted.
func TestRTPEngineRunRecordsEveryPacket(t *testing.T) {
	if testing.Short() {
		t.Skip("starts rtpengine")
	}
	cfg := RunConfig{Streams: 10, TracksPerCall: 2, Duration: 3 * time.Second, MaxLateness: time.Second}
	pc := RTPEngineConfig{PortMin: 50000 + os.Getpid()%100*40}
	pc.PortMax = pc.PortMin + 39
	res, err := RunRTPEngine(context.Background(), cfg, pc)
	if err != nil {
		t.Fatal(err)
	}
	want := int64(10 * 150)
	switch {
	case res.Mode != PeerRTPEngine || res.Calls != 5:
		t.Fatalf("mode %q, %d calls; want rtpengine, 5", res.Mode, res.Calls)
	case len(res.Errors) > 0:
		t.Fatalf("errors: %v", res.Errors)
	case res.SentPackets != want:
		t.Fatalf("sent %d packets, want %d", res.SentPackets, want)
	case res.RecordedPkts != want || res.LostPackets != 0 || res.LossyStreams != 0:
		t.Fatalf("recorded %d of %d (lost %d, lossy streams %d)", res.RecordedPkts, want, res.LostPackets, res.LossyStreams)
	case res.IngestLag.N != uint64(want) || res.IngestLag.P50 <= 0 || res.IngestLag.P99 > 1000:
		t.Fatalf("lag: %+v", res.IngestLag)
	case res.BytesWritten < want*(16+14+20+8+172):
		t.Fatalf("pcap bytes %d for %d packets", res.BytesWritten, want)
	case res.RSS == 0 || res.GatewayCPU <= 0 || res.GatewayCPUPerPacket <= 0 || res.GeneratorCPUPerPacket <= 0:
		t.Fatalf("no process figures: RSS %d, CPU %v (%v µs per packet), generator %v µs per packet",
			res.RSS, res.GatewayCPU, res.GatewayCPUPerPacket, res.GeneratorCPUPerPacket)
	}
}

// TestCountPcaps reads pcaps written the way rtpengine writes them (fake
// Ethernet, IPv4, UDP) and counts distinct packets per stream, duplicates,
// foreign packets and lag; an empty directory (recording off) counts
// nothing and every stream as lossy.
func TestCountPcaps(t *testing.T) {
	dir := t.TempDir()
	base := time.Unix(1_800_000_000, 0)
	writePcap(t, filepath.Join(dir, "a.pcap"), base, []pkt{
		{ssrc: 100, index: 0, lag: time.Millisecond},
		{ssrc: 100, index: 1, lag: 3 * time.Millisecond},
		{ssrc: 100, index: 1, lag: 3 * time.Millisecond}, // duplicate
		{ssrc: 100, index: 2, lag: 2 * time.Millisecond},
		{rtcp: true},
	})
	writePcap(t, filepath.Join(dir, "b.pcap"), base, []pkt{
		{ssrc: 101, index: 0, lag: 100 * time.Millisecond},
		{ssrc: 999, index: 0},                         // not a stream of this run
		{ssrc: 101, index: 70, lag: time.Millisecond}, // beyond what was sent
	})
	index := map[uint32]int{100: 0, 101: 1}
	c, err := CountPcaps(dir, index, []uint32{3, 2})
	if err != nil {
		t.Fatal(err)
	}
	if c.Files != 2 || c.Recorded != 4 || c.Duplicates != 1 || c.Foreign != 3 || c.Lossy != 1 || len(c.Errors) > 0 {
		t.Fatalf("files %d, recorded %d, duplicates %d, foreign %d, lossy %d, errors %v; want 2, 4, 1, 3, 1, none",
			c.Files, c.Recorded, c.Duplicates, c.Foreign, c.Lossy, c.Errors)
	}
	if c.PerStream[0] != 3 || c.PerStream[1] != 1 {
		t.Fatalf("per stream %v, want [3 1]", c.PerStream)
	}
	if s := c.Lag.Summarize(); s.N != 4 || s.Max < 99 || s.Max > 101 {
		t.Fatalf("lag %+v, want 4 samples, max 100 ms", s)
	}
	empty, err := CountPcaps(t.TempDir(), index, []uint32{3, 2})
	if err != nil {
		t.Fatal(err)
	}
	if empty.Recorded != 0 || empty.Lossy != 2 || empty.Files != 0 {
		t.Fatalf("empty dir: recorded %d, lossy %d, files %d", empty.Recorded, empty.Lossy, empty.Files)
	}
}

// pkt is one datagram of a synthetic pcap.
type pkt struct {
	ssrc  uint32
	index uint32
	lag   time.Duration // capture time − send time
	rtcp  bool          // an RTCP sender report instead
}

func writePcap(t *testing.T, path string, base time.Time, pkts []pkt) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		sent := base.Add(time.Duration(i) * 20 * time.Millisecond)
		rtp := newPacket(Codecs["pcmu"], 20*time.Millisecond, p.ssrc)
		stamp(rtp, p.index, 160, sent.UnixNano())
		if p.rtcp {
			rtp = []byte{0x81, 200, 0, 1, 0, 0, 0, 1}
		}
		frame := make([]byte, 14+20+8, 14+20+8+len(rtp))
		binary.BigEndian.PutUint16(frame[12:], 0x0800)
		ip := frame[14:]
		ip[0], ip[9] = 0x45, 17
		binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(rtp)))
		copy(ip[12:], []byte{127, 0, 0, 1, 127, 0, 0, 1})
		udp := ip[20:]
		binary.BigEndian.PutUint16(udp[0:], 40000)
		binary.BigEndian.PutUint16(udp[2:], 20000)
		binary.BigEndian.PutUint16(udp[4:], uint16(8+len(rtp)))
		frame = append(frame, rtp...)
		ci := gopacket.CaptureInfo{Timestamp: sent.Add(p.lag), CaptureLength: len(frame), Length: len(frame)}
		if err := w.WritePacket(ci, frame); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRTPEngineSweep sweeps the peer with the same generator: every step
// is an rtpengine run, reported and counted as in `run --peer`.
func TestRTPEngineSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("starts rtpengine")
	}
	pc := RTPEngineConfig{PortMin: 54000 + os.Getpid()%100*40}
	pc.PortMax = pc.PortMin + 39
	var log strings.Builder
	sw, err := Sweep(context.Background(), SweepConfig{
		Run:  RunConfig{TracksPerCall: 1, Duration: 2 * time.Second, MaxLateness: time.Second},
		From: 2, To: 4, Step: 2, MaxLoss: 0.0001,
		Runner: func(ctx context.Context, rc RunConfig) (*Result, error) { return RunRTPEngine(ctx, rc, pc) },
	}, &log)
	if err != nil {
		t.Fatal(err)
	}
	if len(sw.Steps) != 2 || sw.MaxStreams != 4 {
		t.Fatalf("%d steps, largest loss-free %d; want 2 steps, 4\n%s", len(sw.Steps), sw.MaxStreams, log.String())
	}
	for _, r := range sw.Steps {
		if r.Mode != PeerRTPEngine || r.SentPackets != int64(r.Streams*100) || r.RecordedPkts != r.SentPackets {
			t.Fatalf("step %d: mode %q, sent %d, recorded %d", r.Streams, r.Mode, r.SentPackets, r.RecordedPkts)
		}
	}
	if !strings.Contains(log.String(), "counted in the pcap files") {
		t.Fatalf("sweep log lacks the peer table:\n%s", log.String())
	}
}
