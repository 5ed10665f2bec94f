package media_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/storage/seal"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

var updateSIPREC = flag.Bool("update-siprec", false, "rewrite testdata/siprec/siprec-pcmu.pcap")

// SIPREC test media: caller 440 Hz on the first m-line, agent 1000 Hz on
// the second (pcap UDP port + 2), 6.4 s of 20 ms PCMU packets, and one
// RFC 4733 event (digit 7) on the caller stream at 1.0 s.
const (
	pcapCallerHz, pcapAgentHz = 440, 1000
	pcapPackets               = 320
	pcapDTMFAt                = 50 // packet index of the DTMF event
	pcapBasePort              = 6000
)

// siprecPCAP builds the pcap deterministically (Ethernet/IPv4/UDP/RTP).
func siprecPCAP(t testing.TB) []byte {
	var b bytes.Buffer
	hdr := []any{uint32(0xa1b2c3d4), uint16(2), uint16(4), int32(0), uint32(0), uint32(65535), uint32(1)}
	for _, v := range hdr {
		binary.Write(&b, binary.LittleEndian, v)
	}
	start := time.Unix(1700000000, 0)
	write := func(at time.Duration, dport uint16, pkt []byte) {
		udp := make([]byte, 8+len(pkt))
		binary.BigEndian.PutUint16(udp[0:], dport)
		binary.BigEndian.PutUint16(udp[2:], dport)
		binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
		copy(udp[8:], pkt)
		ip := make([]byte, 20)
		ip[0], ip[8], ip[9] = 0x45, 64, 17
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(udp)))
		copy(ip[12:], []byte{127, 0, 0, 1})
		copy(ip[16:], []byte{127, 0, 0, 1})
		var sum uint32
		for i := 0; i < 20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(ip[i:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
		frame := append(append(make([]byte, 12), 0x08, 0x00), append(ip, udp...)...)
		ts := start.Add(at)
		binary.Write(&b, binary.LittleEndian, []uint32{uint32(ts.Unix()), uint32(ts.Nanosecond() / 1000), uint32(len(frame)), uint32(len(frame))})
		b.Write(frame)
	}
	mk := func(pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
		p, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc}, Payload: payload}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	seq := uint16(100)
	for i := 0; i < pcapPackets; i++ {
		at := time.Duration(i) * 20 * time.Millisecond
		write(at, pcapBasePort, mk(0, seq, uint32(i*160), 0xCA11E2, gatewaytest.Tone(pcapCallerHz, i)))
		seq++
		if i == pcapDTMFAt {
			for k, dur := range []uint16{160, 320, 480, 480, 480, 480} {
				end := byte(0)
				if k >= 3 {
					end = 0x80
				}
				write(at+time.Millisecond, pcapBasePort, mk(101, seq, uint32(i*160), 0xCA11E2, []byte{7, end | 10, byte(dur >> 8), byte(dur)}))
				seq++
			}
		}
		write(at+time.Millisecond, pcapBasePort+2, mk(0, uint16(5000+i), uint32(i*160), 0xA6E47, gatewaytest.Tone(pcapAgentHz, i)))
	}
	return b.Bytes()
}

func TestSIPRECPcapGolden(t *testing.T) {
	path := filepath.Join(testenv.RepoRoot(t), "testdata", "siprec", "siprec-pcmu.pcap")
	want := siprecPCAP(t)
	if *updateSIPREC {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the generator (run with -update-siprec): %v", path, err)
	}
}

// runSIPp starts sipp with scenario (testdata/siprec) against tg's UDP
// SIPREC listener, media ports from mpBase, and returns it, its output
// and the session it opened (caught while live).
func runSIPp(t *testing.T, tg *gatewaytest.Gateway, sippBin, scenario string, mpBase int) (*exec.Cmd, *bytes.Buffer, *media.Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	mp := mpBase + os.Getpid()%1000*4
	cmd := exec.CommandContext(ctx, sippBin, "-sf", scenario, "-t", "u1", "-i", "127.0.0.1", "-p", "0",
		"-mp", strconv.Itoa(mp), "-m", "1", "-nostdin", "-timeout", "40s", "-trace_err",
		"-error_file", filepath.Join(t.TempDir(), "sipp-errors.log"), tg.SIPAddr("udp"))
	cmd.Dir = filepath.Join(testenv.RepoRoot(t), "testdata", "siprec")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ss := tg.Media().Sessions(); len(ss) > 0 {
			return cmd, &out, ss[0]
		}
	}
	cancel()
	cmd.Wait()
	t.Fatalf("no session opened by sipp:\n%s", out.String())
	return nil, nil, nil
}

func needSIPp(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("sipp's play_pcap_audio needs raw sockets (root)")
	}
	cmd := exec.Command("bash", filepath.Join(testenv.RepoRoot(t), "scripts", "install-sipp.sh"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("install sipp (scripts/install-sipp.sh): %v\n%s", err, out)
	}
	p, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatalf("sipp not found after scripts/install-sipp.sh: %v", err)
	}
	return p
}

// goertzel is the power of freq in samples (8 kHz); rms their level.
var goertzel, rms = gatewaytest.Goertzel, gatewaytest.RMS

// TestSIPRECWithSIPp: sipp is the SRC. It opens a recording session over
// UDP, plays both streams from the pcap, pauses with a=inactive for 2 s,
// resumes and hangs up. The recording must export to stereo WAV with the
// caller left and the agent right, the pause silent, and (policy
// redactDtmf) no telephone-event in the decrypted records.
func TestSIPRECWithSIPp(t *testing.T) {
	sippBin := needSIPp(t)
	tg := gatewaytest.Start(t, func(c *config.Config) {
		c.SIPREC.Enabled = true
		c.SIPREC.Listen = []config.SIPListen{{Transport: "udp", Addr: "127.0.0.1:0"}}
		c.SIPREC.Auth.AllowFrom = []string{"127.0.0.0/8"}
		for i := range c.Policies {
			c.Policies[i].RedactDTMF = true
		}
	})
	cmd, out, sess := runSIPp(t, tg, sippBin, "srs-uac.xml", 36000)
	addrs := sess.Addrs()
	if len(addrs) != 2 || addrs[0].Label != "caller" || addrs[1].Label != "agent" {
		t.Fatalf("tracks %+v", addrs)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out.String())
	}
	sum := sess.Summary()
	if sum.Status != "COMPLETE" || sum.EndReason != "siprec-bye" {
		t.Fatalf("summary %+v", sum)
	}
	if sum.Counters.DTMFRedacted != 6 || sum.Counters.Paused == 0 {
		t.Fatalf("counters %+v: want 6 redacted DTMF packets and paused drops", sum.Counters)
	}

	// Decrypt: no telephone-event packet, one marker.
	rec, err := tg.OpenRecording(context.Background(), sess.RecordingID)
	if err != nil {
		t.Fatal(err)
	}
	markers := 0
	_, err = rec.Records(func(r seal.Record) error {
		switch {
		case r.Type == seal.RecordPacket && len(r.Data) > 1 && r.Data[1]&0x7f == 101:
			t.Errorf("telephone-event reached the recording: % x", r.Data)
		case r.Type == seal.RecordEvent && bytes.Equal(r.Data, media.DTMFMarker):
			markers++
		}
		return nil
	})
	rec.Close()
	if err != nil || markers != 1 {
		t.Fatalf("records: %v, %d DTMF markers (want 1)", err, markers)
	}

	b, _ := tg.ExportTrack(sess.RecordingID, playback.FormatWAVStereo, "")
	w := gatewaytest.ParseWAV(t, b)
	if w.Channels != 2 || w.Rate != 8000 {
		t.Fatalf("wav %d channels %d Hz", w.Channels, w.Rate)
	}
	// 100 ms frames: tone, a silent span of about 2 s (the pause), tone.
	const frame = 800
	n := len(w.Samples[0]) / frame
	var silent []int
	quiet := make([]bool, n)
	for f := 0; f < n; f++ {
		l, r := w.Samples[0][f*frame:(f+1)*frame], w.Samples[1][f*frame:(f+1)*frame]
		if rms(l) < 50 && rms(r) < 50 {
			silent, quiet[f] = append(silent, f), true
		}
	}
	for f := 0; f < n; f++ {
		// Frames at the edge of the pause hold part tone, part silence,
		// and the two channels' edges need not fall in the same frame:
		// judge pitch only on frames with silence on neither side.
		if quiet[f] || (f > 0 && quiet[f-1]) || (f+1 < n && quiet[f+1]) {
			continue
		}
		l, r := w.Samples[0][f*frame:(f+1)*frame], w.Samples[1][f*frame:(f+1)*frame]
		if gl, gr := goertzel(l, pcapCallerHz), goertzel(l, pcapAgentHz); gl < 10*gr {
			t.Errorf("frame %d: left channel is not the caller's %d Hz", f, pcapCallerHz)
		}
		if gl, gr := goertzel(r, pcapAgentHz), goertzel(r, pcapCallerHz); gl < 10*gr {
			t.Errorf("frame %d: right channel is not the agent's %d Hz", f, pcapAgentHz)
		}
	}
	if len(silent) < 15 || len(silent) > 25 || silent[len(silent)-1]-silent[0] != len(silent)-1 || silent[0] < 10 {
		t.Fatalf("silent frames %v: want one span of about 2 s after the start", silent)
	}
	t.Logf("%d frames of 100 ms, paused span %d-%d", n, silent[0], silent[len(silent)-1])
}
