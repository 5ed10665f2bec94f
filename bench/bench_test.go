package bench

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestSpawnRunVerifies is the harness's sanity run: a spawned gateway, 20
// streams for 2 s, every packet recorded, and the verification really
// decrypted the recordings (a wrong key or a tampered file would fail it).
func TestSpawnRunVerifies(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns the gateway")
	}
	bin := filepath.Join(t.TempDir(), "mediaseal")
	if err := BuildGateway(context.Background(), "..", bin); err != nil {
		t.Fatal(err)
	}
	cfg := RunConfig{Streams: 20, Duration: 2 * time.Second, Spawn: SpawnConfig{Bin: bin, PortMin: 52000 + os.Getpid()%100*40},
		BaselineDuration: time.Second, MaxLateness: time.Second}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := int64(20 * 100)
	switch {
	case !res.Verified:
		t.Fatalf("not verified by decryption: %v", res.Errors)
	case res.SentPackets != want:
		t.Fatalf("sent %d packets, want %d", res.SentPackets, want)
	case res.RecordedPkts != want || res.LostPackets != 0:
		t.Fatalf("recorded %d of %d (lost %d)", res.RecordedPkts, want, res.LostPackets)
	case res.IngestLag.N != uint64(want):
		t.Fatalf("lag samples %d, want %d", res.IngestLag.N, want)
	case res.BaselinePPS == 0 || res.BaselineRatio == 0:
		t.Fatalf("no baseline: %+v", res)
	case res.RSS == 0 || res.BytesWritten == 0:
		t.Fatalf("no process figures: RSS %d, bytes %d", res.RSS, res.BytesWritten)
	case res.FirstDurP99 == 0 || res.DEKLatencyP99 == 0 || res.FlushTookP99 == 0:
		t.Fatalf("gateway histograms not read: first durable %v, DEK %v, flush %v", res.FirstDurP99, res.DEKLatencyP99, res.FlushTookP99)
	case res.SpoolCommits == 0:
		t.Fatal("no spool commits read from the gateway")
	case res.GatewayCPUPerPacket <= 0 || res.GeneratorCPUPerPacket <= 0 || res.StreamsPerCoreEst <= 0:
		t.Fatalf("no per-packet CPU: gateway %v µs, generator %v µs, per core %v", res.GatewayCPUPerPacket, res.GeneratorCPUPerPacket, res.StreamsPerCoreEst)
	}
}

// TestSpawnRunSRTP: the generator sends SRTP under the keys the gateway
// generated; every packet is recorded (so each authenticated and
// decrypted: an SRTP packet taken as plain RTP would fail the stamp
// check) and the recordings verify by decryption.
func TestSpawnRunSRTP(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns the gateway")
	}
	bin := filepath.Join(t.TempDir(), "mediaseal")
	if err := BuildGateway(context.Background(), "..", bin); err != nil {
		t.Fatal(err)
	}
	cfg := RunConfig{Streams: 20, Duration: 2 * time.Second, Spawn: SpawnConfig{Bin: bin, PortMin: 53000 + os.Getpid()%100*40},
		MaxLateness: time.Second, SRTP: "AES_CM_128_HMAC_SHA1_80"}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(20 * 100); !res.Verified || res.RecordedPkts != want || res.LostPackets != 0 || res.SRTP != cfg.SRTP {
		t.Fatalf("SRTP run: verified %v, recorded %d of %d, lost %d, srtp %q: %v", res.Verified, res.RecordedPkts, want, res.LostPackets, res.SRTP, res.Errors)
	}
	cfg.SRTP = "NULL_HMAC_SHA1_80"
	if _, err := Run(context.Background(), cfg); !errors.Is(err, ErrConfig) {
		t.Fatalf("unknown suite: %v", err)
	}
}

// TestSpawnRunAudioHook: signed AudioHook sessions of stamped stereo
// frames; both channels of every frame are found in the recordings by
// decryption (a frame split into the wrong tracks or lost would fail the
// per-track stamp count), and the CPU per frame is measured.
func TestSpawnRunAudioHook(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns the gateway")
	}
	bin := filepath.Join(t.TempDir(), "mediaseal")
	if err := BuildGateway(context.Background(), "..", bin); err != nil {
		t.Fatal(err)
	}
	cfg := RunConfig{Streams: 10, Duration: 2 * time.Second, Spawn: SpawnConfig{Bin: bin, PortMin: 54000 + os.Getpid()%100*40},
		MaxLateness: time.Second, Ingest: IngestAudioHook}
	res, err := RunAudioHook(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(10 * 2 * 100); !res.Verified || res.SentPackets != want || res.RecordedPkts != want || res.LostPackets != 0 || res.CPUPerFrame <= 0 {
		t.Fatalf("AudioHook run: verified %v, sent %d, recorded %d of %d, CPU per frame %v: %v", res.Verified, res.SentPackets,
			res.RecordedPkts, want, res.CPUPerFrame, res.Errors)
	}
	cfg.SRTP = "AES_CM_128_HMAC_SHA1_80"
	if _, err := RunAudioHook(context.Background(), cfg); !errors.Is(err, ErrConfig) {
		t.Fatalf("--srtp with audiohook: %v", err)
	}
}

func TestHistQuantiles(t *testing.T) {
	cases := []struct {
		name    string
		samples []int64
		q       float64
		want    time.Duration
		tol     float64
	}{
		{"empty", nil, 0.99, 0, 0},
		{"one", []int64{5e6}, 0.5, 5 * time.Millisecond, 0},
		{"negative counts low", []int64{-10, -5}, 0.5, 0, 0},
		{"uniform p50", seq(1, 1000, 1e4), 0.5, 5 * time.Millisecond, 0.07},
		{"uniform p99", seq(1, 1000, 1e4), 0.99, 9900 * time.Microsecond, 0.07},
		{"tail p99", append(seq(1, 990, 1e3), seq(1, 10, 1e8)...), 0.99, time.Millisecond, 0.07},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h Hist
			for _, v := range c.samples {
				h.Add(v)
			}
			got := h.Quantile(c.q)
			if d := float64(got - c.want); d > c.tol*float64(c.want) || -d > c.tol*float64(c.want) {
				t.Fatalf("q%.2f = %s, want %s ±%.0f%%", c.q, got, c.want, 100*c.tol)
			}
		})
	}
}

func seq(from, to int, scale int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, int64(i)*scale)
	}
	return out
}

func TestStampRoundTrip(t *testing.T) {
	for name, c := range Codecs {
		t.Run(name, func(t *testing.T) {
			pkt := newPacket(c, 20*time.Millisecond, 0xABCD)
			stamp(pkt, 70000, 160, 1234567890123)
			st, ok := ParseStamp(pkt)
			if !ok || st.Sent != 1234567890123 || st.Index != 70000 || st.SSRC != 0xABCD || pkt[1] != c.PayloadType {
				t.Fatalf("stamp %+v ok=%v pt=%d", st, ok, pkt[1])
			}
			if _, ok := ParseStamp(pkt[:20]); ok {
				t.Fatal("short packet parsed")
			}
		})
	}
}

func TestParseUDP(t *testing.T) {
	const table = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 0100007F:7530 00000000:0000 07 00000000:00000200 00:00000000 00000000     0        0 1 2 0000000000000000 3
  101: 0100007F:7531 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0000000000000000 0
  102: 0100007F:1F90 00000000:0000 07 00000000:00000100 00:00000000 00000000     0        0 1 2 0000000000000000 9
`
	var st UDPStats
	if err := parseUDP([]byte(table), map[uint16]bool{30000: true, 30001: true}, &st); err != nil {
		t.Fatal(err)
	}
	if st.Sockets != 2 || st.Drops != 3 || st.RxQueue != 0x200 {
		t.Fatalf("%+v", st)
	}
}

// TestGeneratorPacesIntoSink sends through the baseline sink over IPv4
// and IPv6: every packet arrives, each stream sends exactly its count.
func TestGeneratorPacesIntoSink(t *testing.T) {
	for _, addr := range []string{"127.0.0.1", "::1"} {
		t.Run(addr, func(t *testing.T) { testPacesInto(t, netip.MustParseAddr(addr)) })
	}
}

func testPacesInto(t *testing.T, addr netip.Addr) {
	sink, err := NewSink(addr, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	var streams []*Stream
	for i, a := range sink.Addrs() {
		streams = append(streams, &Stream{Dest: a, SSRC: uint32(i), Start: time.Duration(i) * 10 * time.Millisecond})
	}
	g, err := NewGenerator(GenConfig{Codec: Codecs["pcmu"], Ptime: 10 * time.Millisecond, Packets: 30, Workers: 2}, streams)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	res, err := g.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(t0); el < 300*time.Millisecond {
		t.Fatalf("30 packets at 10 ms took %s: not paced", el)
	}
	for i, n := range res.PerStream {
		if n != 30 {
			t.Fatalf("stream %d sent %d", i, n)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for sink.Received() < 300 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if sink.Received() != 300 || res.Sent != 300 {
		t.Fatalf("sent %d, received %d", res.Sent, sink.Received())
	}
}

// TestGeneratorNiceOnlyItsThreads: the sending threads run at the asked
// nice value (root; otherwise the result says why not), and no thread of
// the process keeps it afterwards: the harness and what it spawns are
// not raised.
func TestGeneratorNiceOnlyItsThreads(t *testing.T) {
	sink, err := NewSink(netip.MustParseAddr("127.0.0.1"), 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	var streams []*Stream
	for i, a := range sink.Addrs() {
		streams = append(streams, &Stream{Dest: a, SSRC: uint32(i)})
	}
	const nice = -5
	var (
		mu     sync.Mutex
		during []int
	)
	g, err := NewGenerator(GenConfig{Codec: Codecs["pcmu"], Ptime: 10 * time.Millisecond, Packets: 20, Workers: 2, Nice: nice,
		Progress: func(int64) {
			mu.Lock()
			defer mu.Unlock()
			during = append(during, threadNices(t)...)
		}}, streams)
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if res.NiceErr != nil || res.Nice != nice || !slices.Contains(during, nice) {
			t.Fatalf("nice %d (%v), thread nice values while sending %v", res.Nice, res.NiceErr, during)
		}
	} else if res.NiceErr == nil || res.Nice != 0 {
		t.Fatalf("unprivileged: nice %d, err %v", res.Nice, res.NiceErr)
	}
	// The raised threads end with their goroutines.
	deadline := time.Now().Add(5 * time.Second)
	for slices.Contains(threadNices(t), nice) {
		if time.Now().After(deadline) {
			t.Fatalf("a thread kept nice %d after the run: %v", nice, threadNices(t))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// threadNices lists the nice value of every thread of this process.
func threadNices(t *testing.T) []int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/stat")
		if err != nil {
			continue // the thread ended meanwhile
		}
		// nice is field 19; fields start after the command's closing ')'.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		n, err := strconv.Atoi(f[16])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func TestSweepPassed(t *testing.T) {
	c := SweepConfig{MaxLoss: 0.0001}
	cases := []struct {
		name string
		r    Result
		want bool
	}{
		{"clean", Result{Valid: true}, true},
		{"loss at the bound", Result{Valid: true, LossRatio: 0.0001}, true},
		{"loss above", Result{Valid: true, LossRatio: 0.00011}, false},
		{"generator fell behind", Result{Valid: false}, false},
		{"kernel drops", Result{Valid: true, KernelDrops: 1}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Passed(&tc.r); got != tc.want {
				t.Fatalf("Passed = %v, want %v", got, tc.want)
			}
		})
	}
}

// A daemon the bench starts gets the raised descriptor limit, not the
// soft limit the bench started with (Go raises its own, not its
// children's).
func TestDaemonsGetTheRaisedFileLimit(t *testing.T) {
	var start syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &start); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &start) })
	low := syscall.Rlimit{Cur: 1024, Max: start.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "ulimit.log")
	exited := make(chan error, 1)
	if _, err := startDaemon([]string{"sh", "-c", "ulimit -n"}, "", logPath, exited); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("ulimit -n printed %q", b)
	}
	if got < start.Max {
		t.Fatalf("the daemon's descriptor limit is %d, want at least the hard limit %d", got, start.Max)
	}
	if os.Geteuid() == 0 && start.Max < daemonNoFile && got != daemonNoFile && got != start.Max {
		t.Fatalf("the daemon's descriptor limit is %d, want %d or, without CAP_SYS_RESOURCE, %d", got, daemonNoFile, start.Max)
	}
}
