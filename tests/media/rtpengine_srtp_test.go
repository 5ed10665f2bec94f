package media_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/mediaseal/mediaseal/bench"
	"github.com/mediaseal/mediaseal/bench/peers/ng"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/media/srtp"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestRTPEngineSendsSDESSRTP puts rtpengine between a plain RTP sender
// and the running gateway, as a media server that forks calls: plain RTP
// in, SDES-SRTP out (its offer with transport-protocol RTP/SAVP). The
// gateway's session takes rtpengine's a=crypto, the answer accepts that
// tag, and the call is recorded decrypted with the sender's tone.
func TestRTPEngineSendsSDESSRTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pmin := 41000 + os.Getpid()%100*20
	e, err := bench.StartRTPEngine(ctx, bench.RTPEngineConfig{Dir: t.TempDir(), PortMin: pmin, PortMax: pmin + 19})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop(5 * time.Second)
	cl, err := ng.Dial(e.NG)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	tg := gatewaytest.Start(t, nil)

	gen, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close()
	callID, fromTag, toTag := fmt.Sprintf("rtpe-srtp-%d", time.Now().UnixNano()), "gen", "mediaseal"
	offer, err := cl.Offer(ctx, callID, fromTag, ng.AudioSDP(gen.LocalAddr().(*net.UDPAddr).AddrPort(), 0, "PCMU", 20),
		ng.Dict{"transport-protocol": "RTP/SAVP", "ICE": "remove"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(offer, "RTP/SAVP") {
		t.Fatalf("rtpengine's offer is not SDES-SRTP:\n%s", offer)
	}
	// The first a=crypto the gateway takes: rtpengine's key for what it sends.
	var crypto string
	for _, l := range strings.Split(offer, "\r\n") {
		if v, ok := strings.CutPrefix(l, "a=crypto:"); ok && crypto == "" {
			if _, _, err := srtp.ParseCrypto(v); err == nil {
				crypto = v
			}
		}
	}
	if crypto == "" {
		t.Fatalf("no usable a=crypto in rtpengine's offer:\n%s", offer)
	}
	var s gatewaytest.Session
	if code := tg.Do("POST", "/v1/sessions", map[string]any{"callId": callID, "queueId": "sales", "direction": "INBOUND",
		"tracks": []map[string]any{{"label": "caller", "kind": "audio", "source": "127.0.0.1", "srtp": map[string]string{"crypto": crypto}}}}, &s); code != http.StatusCreated {
		t.Fatalf("create: %d %+v", code, s)
	}
	dest := netip.MustParseAddrPort(s.Tracks[0].RTP)
	fields := strings.Fields(crypto)
	own, err := srtp.Generate(0, srtp.Suite(fields[1]))
	if err != nil {
		t.Fatal(err)
	}
	answer := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=mediaseal\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:%s %s inline:%s\r\na=recvonly\r\n",
		dest.Port(), fields[0], fields[1], strings.TrimPrefix(strings.Fields(own.Attribute())[2], "inline:"))
	toGen, err := cl.Answer(ctx, callID, fromTag, toTag, answer, ng.Dict{"ICE": "remove"})
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := ng.MediaAddrs(toGen)
	if err != nil || len(addrs) == 0 {
		t.Fatalf("rtpengine's answer to the sender: %v\n%s", err, toGen)
	}
	for i := range 100 {
		p, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(1000 + i), Timestamp: uint32(i * 160), SSRC: 0xE1},
			Payload: gatewaytest.Tone(pcapCallerHz, i)}).Marshal()
		if _, err := gen.WriteToUDPAddrPort(p, addrs[0]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	sum := tg.End(s)
	if _, err := cl.Delete(ctx, callID, ""); err != nil {
		t.Logf("rtpengine delete: %v", err)
	}
	if sum.Status != "COMPLETE" || sum.Records < 95 || sum.Dropped[media.DropAuth] != 0 {
		t.Fatalf("summary %+v", sum)
	}
	wav, _ := tg.ExportTrack(s.RecordingID, playback.FormatWAV, "caller")
	if l := gatewaytest.ParseWAV(t, wav).Samples[0]; len(l) < 15000 || goertzel(l, pcapCallerHz) < 10*goertzel(l, pcapAgentHz) {
		t.Fatalf("the recording does not hold the sender's %d Hz tone (%d samples)", pcapCallerHz, len(l))
	}
}
