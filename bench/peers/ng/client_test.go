package ng

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCallRecorded sets a call up on a real rtpengine with recording on,
// sends RTP to the port the answer names, deletes the call and finds every
// packet in the pcap file rtpengine wrote.
func TestCallRecorded(t *testing.T) {
	d := startDaemon(t)
	c, err := Dial(d.ng)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sinkAddr := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	rec := Dict{"record call": "yes"}
	offer, err := c.Offer(ctx, "call-1", "caller", AudioSDP(sinkAddr, 0, "PCMU", 20), rec)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := c.Answer(ctx, "call-1", "caller", "callee", AudioSDP(sinkAddr, 0, "PCMU", 20), rec)
	if err != nil {
		t.Fatal(err)
	}
	calleePort, err := MediaPort(offer)
	if err != nil {
		t.Fatal(err)
	}
	callerPort, err := MediaPort(answer)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []uint16{calleePort, callerPort} {
		if int(p) < d.portMin || int(p) > d.portMax {
			t.Fatalf("allocated port %d outside --port-min/max %d-%d", p, d.portMin, d.portMax)
		}
	}
	if calleePort == callerPort {
		t.Fatalf("offer and answer name the same port %d", calleePort)
	}
	// The caller sends: rtpengine records and forwards to the callee (sink).
	const n = 20
	snd, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), callerPort)))
	if err != nil {
		t.Fatal(err)
	}
	defer snd.Close()
	pkt := make([]byte, 172)
	pkt[0], pkt[1] = 0x80, 0
	binary.BigEndian.PutUint32(pkt[8:], 0xC0FFEE)
	for i := range n {
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		if _, err := snd.Write(pkt); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = sink.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	for i := range n {
		if _, err := sink.Read(buf); err != nil {
			t.Fatalf("forwarded packet %d: %v", i, err)
		}
	}
	if _, err := c.Delete(ctx, "call-1", ""); err != nil {
		t.Fatal(err)
	}
	// --delete-delay=0: the pcap is closed and the metadata file moved when
	// the delete returns.
	pcaps, _ := filepath.Glob(filepath.Join(d.recDir, "pcaps", "call-1-*.pcap"))
	if len(pcaps) != 1 {
		t.Fatalf("pcap files for call-1: %v", pcaps)
	}
	fi, err := os.Stat(pcaps[0])
	if err != nil {
		t.Fatal(err)
	}
	// Global header 24 bytes; per packet a 16-byte record header, the fake
	// Ethernet (14), IPv4 (20) and UDP (8) headers and the RTP packet.
	if want := int64(24 + n*(16+14+20+8+len(pkt))); fi.Size() != want {
		t.Fatalf("pcap is %d bytes, want %d (%d packets)", fi.Size(), want, n)
	}
	if meta, _ := filepath.Glob(filepath.Join(d.recDir, "metadata", "*call-1-*.txt")); len(meta) != 1 {
		t.Fatalf("metadata files for call-1: %v", meta)
	}
}

func TestErrors(t *testing.T) {
	d := startDaemon(t)
	c, err := Dial(d.ng)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	sdp := AudioSDP(netip.MustParseAddrPort("127.0.0.1:9"), 0, "PCMU", 20)
	if _, err := c.Answer(ctx, "no-such-call", "a", "b", sdp, nil); !errors.Is(err, ErrFailed) {
		t.Fatalf("answer of an unknown call: err %v, want ErrFailed", err)
	}
	// Deleting an unknown call is not an error to rtpengine, only a warning.
	if r, err := c.Delete(ctx, "no-such-call", ""); err != nil || r.Str("warning") == "" {
		t.Fatalf("delete of an unknown call: %v, %v; want ok with a warning", r, err)
	}
	if _, err := c.Offer(ctx, "bad", "caller", "this is not SDP", nil); !errors.Is(err, ErrFailed) {
		t.Fatalf("offer with bad SDP: err %v, want ErrFailed", err)
	}
	if err := c.StartRecording(ctx, "no-such-call"); !errors.Is(err, ErrFailed) {
		t.Fatalf("start recording of an unknown call: err %v, want ErrFailed", err)
	}

	// Nobody listens here: every attempt times out.
	dead, err := Dial("127.0.0.1:" + itoa(freeUDPPort(t)))
	if err != nil {
		t.Fatal(err)
	}
	dead.AttemptTimeout, dead.Attempts = 50*time.Millisecond, 2
	if err := dead.Ping(ctx); !errors.Is(err, ErrTimeout) {
		t.Fatalf("ping of nothing: err %v, want ErrTimeout", err)
	}
	if err := dead.Close(); err != nil {
		t.Fatal(err)
	}
	if err := dead.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := dead.Ping(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("ping after Close: err %v, want ErrClosed", err)
	}
}

// TestConcurrent: replies are matched by cookie when many requests are in
// flight at once.
func TestConcurrent(t *testing.T) {
	d := startDaemon(t)
	c, err := Dial(d.ng)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	errs := make(chan error, 40)
	for i := range 40 {
		go func() {
			id := "conc-" + itoa(i)
			sdp := AudioSDP(netip.MustParseAddrPort("127.0.0.1:9"), 0, "PCMU", 20)
			if _, err := c.Offer(ctx, id, "a", sdp, nil); err != nil {
				errs <- err
				return
			}
			_, err := c.Delete(ctx, id, "")
			errs <- err
		}()
	}
	for range 40 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
