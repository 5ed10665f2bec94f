package bench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestDelayProxyAddsDelayPerRequest: each request through the proxy is
// answered about the delay later, and requests on parallel connections
// wait side by side, not one behind the other.
func TestDelayProxyAddsDelayPerRequest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // line echo server
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	const delay = 200 * time.Millisecond
	p, err := StartDelayProxy(ln.Addr().String(), delay)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const conns, perConn = 4, 2
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", p.Addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			r := bufio.NewReader(c)
			for range perConn {
				start := time.Now()
				if _, err := c.Write([]byte("ping\n")); err != nil {
					errs <- err
					return
				}
				if line, err := r.ReadString('\n'); err != nil || line != "ping\n" {
					errs <- fmt.Errorf("reply %q: %v", line, err)
					return
				}
				if d := time.Since(start); d < delay || d > delay+150*time.Millisecond {
					t.Errorf("round trip %s, want about %s", d, delay)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Serialised, 4 connections × 2 requests would take 8 × delay.
	if total := time.Since(t0); total > perConn*delay+300*time.Millisecond {
		t.Fatalf("%d parallel connections took %s: requests were queued behind each other", conns, total)
	}
	rt := p.RoundTrips()
	if rt.N != conns*perConn || rt.P50 < float64(delay.Milliseconds()) {
		t.Fatalf("round trips %+v, want %d at ≥ %s", rt, conns*perConn, delay)
	}
	p.SetDelay(0)
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	c.Write([]byte("x\n"))
	if _, err := bufio.NewReader(c).ReadString('\n'); err != nil || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("after SetDelay(0): %v in %s", err, time.Since(start))
	}
}

// TestSpawnRunKMSLatency records under a customer key in local-kms whose
// every request is delayed 1 s: no packet is lost, every recording is
// under the customer key (no fallback), the gateway's DEK latency shows
// the delay, and verification unwraps through local-kms.
func TestSpawnRunKMSLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns the gateway and local-kms")
	}
	bin := filepath.Join(t.TempDir(), "mediaseal")
	if err := BuildGateway(context.Background(), "..", bin); err != nil {
		t.Fatal(err)
	}
	cfg := RunConfig{Streams: 10, Duration: 3 * time.Second, KMSLatency: time.Second, RepoRoot: "..",
		Spawn: SpawnConfig{Bin: bin, PortMin: 53000 + os.Getpid()%100*40}, MaxLateness: time.Second}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := int64(10 * 150)
	switch {
	case !res.Verified:
		t.Fatalf("not verified by decryption: %v", res.Errors)
	case res.SentPackets != want || res.RecordedPkts != want || res.LostPackets != 0:
		t.Fatalf("sent %d, recorded %d, lost %d; want %d, %d, 0", res.SentPackets, res.RecordedPkts, res.LostPackets, want, want)
	case res.RecordingKeys["aws-kms"] != 10 || len(res.RecordingKeys) != 1 || res.KMSFallbacks != 0:
		t.Fatalf("recordings by key %v, fallbacks %d: want all 10 under the customer key", res.RecordingKeys, res.KMSFallbacks)
	case res.DEKLatencyP50 < 1000 || res.DEKLatencyMean < 1000:
		t.Fatalf("DEK latency p50 %.0f ms, mean %.0f ms: the injected 1 s is not seen", res.DEKLatencyP50, res.DEKLatencyMean)
	case res.KMSRoundTrip == nil || res.KMSRoundTrip.N < 10 || res.KMSRoundTrip.P50 < 1000:
		t.Fatalf("KMS round trips at the proxy %+v", res.KMSRoundTrip)
	}
}

// TestKMSLatencyNeedsSpawn: against a remote gateway the bench cannot
// put a proxy in front of its KMS.
func TestKMSLatencyNeedsSpawn(t *testing.T) {
	cfg := RunConfig{Streams: 1, Duration: time.Second, Target: "http://127.0.0.1:1", TokenFile: "x", KMSLatency: time.Second}
	if err := cfg.defaults(); err == nil {
		t.Fatal("--kms-latency with --target accepted")
	}
}
