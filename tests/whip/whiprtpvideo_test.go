package whip_test

import (
	"bytes"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestRTPVideoSession: a plain RTP session with a VP8 video track and an
// Opus audio track (session API, UDP) records and exports like WHIP.
func TestRTPVideoSession(t *testing.T) {
	gatewaytest.NeedFFmpeg(t)
	const seconds, fps = 3, 30
	vp8 := gatewaytest.FFmpegVP8Frames(t, seconds, fps)
	opus := gatewaytest.FFmpegOpusPackets(t, seconds)
	tg := gatewaytest.Start(t, nil)
	var s gatewaytest.Session
	code := tg.Do("POST", "/v1/sessions", map[string]any{"callId": "rtp-video-1", "queueId": "sales", "direction": "INBOUND",
		"tracks": []map[string]any{{"label": "caller", "kind": "audio", "codec": "opus", "source": "127.0.0.1"},
			{"label": "video", "kind": "video", "codec": "VP8", "source": "127.0.0.1"}}}, &s)
	if code != http.StatusCreated || !s.Recorded || len(s.Tracks) != 2 {
		t.Fatalf("create: %d %+v", code, s)
	}
	ac, vc := gatewaytest.DialUDP(t, s.Tracks[0].RTP), gatewaytest.DialUDP(t, s.Tracks[1].RTP)
	vpk := rtp.NewPacketizer(1200, 96, 0x5151, &codecs.VP8Payloader{EnablePictureID: true}, rtp.NewRandomSequencer(), 90000)
	apk := rtp.NewPacketizer(1200, 111, 0x6161, &codecs.OpusPayloader{}, rtp.NewRandomSequencer(), 48000)
	write := func(c *net.UDPConn, pkts []*rtp.Packet) {
		for _, p := range pkts {
			b, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	// 20 ms audio ticks; a video frame on every tick where one is due.
	start := time.Now()
	vi := 0
	for ai := range opus {
		write(ac, apk.Packetize(opus[ai], 960))
		for vi < len(vp8) && time.Duration(vi)*time.Second/fps <= time.Duration(ai)*20*time.Millisecond {
			write(vc, vpk.Packetize(vp8[vi], 90000/fps))
			vi++
		}
		time.Sleep(time.Until(start.Add(time.Duration(ai+1) * 20 * time.Millisecond)))
	}
	for ; vi < len(vp8); vi++ {
		write(vc, vpk.Packetize(vp8[vi], 90000/fps))
	}
	time.Sleep(100 * time.Millisecond)
	sum := tg.End(s)
	if sum.Status != "COMPLETE" {
		t.Fatalf("summary %+v", sum)
	}
	tg.WaitStored(s.RecordingID)
	b, _ := tg.ExportTrack(s.RecordingID, playback.FormatIVF, "")
	path := gatewaytest.WriteTemp(t, "rtp.ivf", b)
	v := gatewaytest.FFprobeStream(t, path, "v")
	gatewaytest.FFmpegDecodes(t, path)
	want := float64(len(vp8)) / fps
	if v.Codec != "vp8" || v.Width != 320 || v.Frames != len(vp8) || v.Duration < want-0.2 || v.Duration > want+0.2 {
		t.Fatalf("ivf: %s %dpx %d frames %.3fs; sent %d frames %.3fs", v.Codec, v.Width, v.Frames, v.Duration, len(vp8), want)
	}
	b, _ = tg.ExportTrack(s.RecordingID, playback.FormatOgg, "")
	path = gatewaytest.WriteTemp(t, "rtp.ogg", b)
	a := gatewaytest.FFprobeStream(t, path, "a")
	wantA := float64(len(opus)) * 0.020
	if a.Codec != "opus" || a.Duration < wantA-0.2 || a.Duration > wantA+0.2 {
		t.Fatalf("ogg: %s %.3fs; sent %.3fs", a.Codec, a.Duration, wantA)
	}
	t.Logf("RTP: ivf vp8 %d frames %.3fs (sent %.3fs); ogg %.3fs (sent %.3fs)", v.Frames, v.Duration, want, a.Duration, wantA)

	// The playback API serves both, after a quorum, as the export does.
	for format, wantType := range map[string]string{playback.FormatIVF: "video/x-ivf", playback.FormatOgg: "audio/ogg"} {
		ct, got := gatewaytest.Playback(tg, s.RecordingID, format)
		if exp, _ := tg.ExportTrack(s.RecordingID, format, ""); ct != wantType || !bytes.Equal(got, exp) {
			t.Fatalf("playback as %s: %s, %d bytes; want %s, the %d bytes of the export", format, ct, len(got), wantType, len(exp))
		}
	}
}
