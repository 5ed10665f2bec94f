package media_test

import (
	"bytes"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/pion/rtp"
	pion "github.com/pion/srtp/v3"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/media/srtp"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// The keys srs-uac-sdes.xml offers for its two streams.
const (
	sdesCallerKey = "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
	sdesAgentKey  = "1 AES_CM_128_HMAC_SHA1_80 inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIz"
)

// TestSIPRECSDESWithSIPp: sipp is the SRC and offers both streams as
// SDES-SRTP; ffmpeg sends each party's tone as SRTP under the keys of that
// SDP. Meanwhile a host on the path tries a replayed packet, a tampered
// tag and a packet under a wrong key: each is a counted drop, none is
// recorded, and the call exports with the right tones on the right sides.
func TestSIPRECSDESWithSIPp(t *testing.T) {
	sippBin := needSIPp(t)
	gatewaytest.NeedFFmpeg(t)
	tg := gatewaytest.Start(t, func(c *config.Config) {
		c.SIPREC.Enabled = true
		c.SIPREC.Listen = []config.SIPListen{{Transport: "udp", Addr: "127.0.0.1:0"}}
		c.SIPREC.Auth.AllowFrom = []string{"127.0.0.0/8"}
		c.SIPREC.SDESOverPlainSIP = true // this sipp has no TLS
	})
	cmd, out, sess := runSIPp(t, tg, sippBin, "srs-uac-sdes.xml", 37000)
	addrs := sess.Addrs()
	if len(addrs) != 2 || addrs[0].SRTP == nil || addrs[1].SRTP == nil {
		t.Fatalf("tracks %+v: want two SRTP tracks", addrs)
	}
	caller := ffmpegSRTPTone(t, addrs[0].RTP, sdesCallerKey, "PCMU", pcapCallerHz, 2)
	agent := ffmpegSRTPTone(t, addrs[1].RTP, sdesAgentKey, "PCMU", pcapAgentHz, 2)

	// The attacker's packets, on the caller's stream, from the sender's host.
	conn, err := net.Dial("udp", addrs[0].RTP)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	keyed := func(attr string) *pion.Context {
		c, _, err := srtp.ParseCrypto(attr)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := pion.CreateContext(c.Key[:16], c.Key[16:], pion.ProtectionProfileAes128CmHmacSha1_80)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	silence := bytes.Repeat([]byte{0xff}, 160)
	seal := func(tx *pion.Context, seq uint16) []byte {
		p, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 0x7777}, Payload: silence}).Marshal()
		b, err := tx.EncryptRTP(nil, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	wrong, err := srtp.Generate(1, srtp.AESCM128SHA1_80)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	tx := keyed(sdesCallerKey)
	valid := seal(tx, 1)
	tampered := seal(tx, 3) // a fresh index: refused by its tag, not as a replay
	tampered[len(tampered)-1] ^= 0x40
	for _, p := range [][]byte{valid, valid /* replayed */, tampered, seal(keyed(wrong.Attribute()), 2)} {
		conn.Write(p)
		time.Sleep(10 * time.Millisecond)
	}
	for _, c := range []*exec.Cmd{caller, agent} {
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out.String())
	}
	sum := sess.Summary()
	if sum.Status != "COMPLETE" || sum.EndReason != "siprec-bye" {
		t.Fatalf("summary %+v", sum)
	}
	if sum.Dropped[media.DropReplay] != 1 || sum.Dropped[media.DropAuth] != 2 || sum.Records != 201 {
		t.Fatalf("counters %+v: want the replay and the two forgeries refused, 200 tone packets and the one valid packet recorded", sum)
	}
	wav, _ := tg.ExportTrack(sess.RecordingID, playback.FormatWAVStereo, "")
	w := gatewaytest.ParseWAV(t, wav)
	if l, r := w.Samples[0], w.Samples[1]; len(l) < 15000 || goertzel(l, pcapCallerHz) < 10*goertzel(l, pcapAgentHz) ||
		goertzel(r, pcapAgentHz) < 10*goertzel(r, pcapCallerHz) {
		t.Fatalf("SDES recording does not hold the caller's tone left and the agent's right (%d samples)", len(l))
	}
}
