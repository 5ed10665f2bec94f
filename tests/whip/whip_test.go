package whip_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	mmedia "github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// publisher is a pion WHIP client.
type publisher struct {
	t         testing.TB
	pc        *webrtc.PeerConnection
	audio     *webrtc.TrackLocalStaticSample
	video     *webrtc.TrackLocalStaticSample
	offer     string
	answer    string
	location  string
	etag      string
	connected chan struct{}
}

// newPublisher builds a pion PeerConnection with the default codecs
// (RTX, RED, FEC included: the gateway must answer with one codec) and
// sendonly Opus and/or VP8 tracks, and gathers its offer.
func newPublisher(t testing.TB, audio, video bool) *publisher {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		t.Fatal(err)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	p := &publisher{t: t, pc: pc, connected: make(chan struct{})}
	t.Cleanup(func() { pc.Close() })
	add := func(c webrtc.RTPCodecCapability, id string) *webrtc.TrackLocalStaticSample {
		tr, err := webrtc.NewTrackLocalStaticSample(c, id, "mediaseal-test")
		if err != nil {
			t.Fatal(err)
		}
		snd, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			t.Fatal(err)
		}
		go func() { // RTCP (NACK, PLI) reaches the interceptors only when read
			buf := make([]byte, 1500)
			for {
				if _, _, err := snd.Sender().Read(buf); err != nil {
					return
				}
			}
		}()
		return tr
	}
	if audio {
		p.audio = add(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio")
	}
	if video {
		p.video = add(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video")
	}
	var once bool
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected && !once {
			once = true
			close(p.connected)
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	p.offer = pc.LocalDescription().SDP
	return p
}

// callQuery is the call metadata of a test WHIP session.
func callQuery(callID string) string {
	return "?" + url.Values{"callId": {callID}, "queueId": {"sales"}, "direction": {"INBOUND"},
		"callerId": {"+441234"}, "agentId": {"agent-7"}}.Encode()
}

// publish POSTs the offer and applies the answer.
func (p *publisher) publish(tg *gatewaytest.Gateway, query string) {
	p.t.Helper()
	resp := tg.WhipRequest("POST", "/whip"+query, "application/sdp", p.offer, nil)
	body := gatewaytest.ReadAll(p.t, resp)
	if resp.StatusCode != http.StatusCreated {
		p.t.Fatalf("POST /whip: %d %s", resp.StatusCode, body)
	}
	p.answer, p.location, p.etag = body, resp.Header.Get("Location"), resp.Header.Get("ETag")
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
		p.t.Fatal(err)
	}
	select {
	case <-p.connected:
	case <-time.After(20 * time.Second):
		p.t.Fatal("WHIP publisher did not connect")
	}
}

// send paces samples in real time; every is the sample duration.
func send(t testing.TB, tr *webrtc.TrackLocalStaticSample, samples [][]byte, every time.Duration) {
	next := time.Now()
	for _, s := range samples {
		if err := tr.WriteSample(media.Sample{Data: s, Duration: every}); err != nil {
			t.Errorf("write sample: %v", err)
			return
		}
		next = next.Add(every)
		time.Sleep(time.Until(next))
	}
}

// stop DELETEs the session and returns the summary.
func (p *publisher) stop(tg *gatewaytest.Gateway) mmedia.Summary {
	p.t.Helper()
	resp := tg.WhipRequest("DELETE", p.location, "", "", nil)
	body := gatewaytest.ReadAll(p.t, resp)
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("DELETE %s: %d %s", p.location, resp.StatusCode, body)
	}
	var sum mmedia.Summary
	if err := json.Unmarshal([]byte(body), &sum); err != nil {
		p.t.Fatal(err)
	}
	return sum
}

// TestWHIPPionPublisher publishes 4 s of libopus audio and libvpx video
// from a pion client and checks that both export to files ffprobe reads
// with the right codec and a duration within 0.2 s of what was sent.
func TestWHIPPionPublisher(t *testing.T) {
	gatewaytest.NeedFFmpeg(t)
	const seconds, fps = 4, 30
	opus := gatewaytest.FFmpegOpusPackets(t, seconds)
	vp8 := gatewaytest.FFmpegVP8Frames(t, seconds, fps)
	tg := gatewaytest.Start(t, nil)
	p := newPublisher(t, true, true)
	p.publish(tg, callQuery(fmt.Sprintf("whip-%d", time.Now().UnixNano())))
	if !strings.Contains(p.answer, "VP8/90000") || strings.Contains(p.answer, "rtx/") || strings.Contains(p.answer, "red/") {
		t.Fatalf("answer must carry VP8 alone (no RTX, RED):\n%s", p.answer)
	}
	done := make(chan struct{})
	go func() { defer close(done); send(t, p.video, vp8, time.Second/fps) }()
	send(t, p.audio, opus, 20*time.Millisecond)
	<-done
	time.Sleep(300 * time.Millisecond) // the last packets cross the network
	sum := p.stop(tg)
	if sum.Status != "COMPLETE" || !sum.Recorded {
		t.Fatalf("summary: %+v", sum)
	}
	tg.WaitStored(sum.RecordingID)

	audioSent := float64(len(opus)) * 0.020
	videoSent := float64(len(vp8)) / fps
	b, res := tg.ExportTrack(sum.RecordingID, playback.FormatOgg, "caller")
	if res.Status.String() != "COMPLETE" {
		t.Fatalf("status %s", res.Status)
	}
	path := gatewaytest.WriteTemp(t, "caller.ogg", b)
	a := gatewaytest.FFprobeStream(t, path, "a")
	if a.Codec != "opus" || a.Duration < audioSent-0.2 || a.Duration > audioSent+0.2 {
		t.Fatalf("ogg: ffprobe says %s %.3fs; sent opus %.3fs", a.Codec, a.Duration, audioSent)
	}
	gatewaytest.FFmpegDecodes(t, path)

	b, _ = tg.ExportTrack(sum.RecordingID, playback.FormatIVF, "video")
	path = gatewaytest.WriteTemp(t, "video.ivf", b)
	v := gatewaytest.FFprobeStream(t, path, "v")
	vEnd := gatewaytest.FFprobeMediaEnd(t, path, "v")
	if v.Codec != "vp8" || v.Width != 320 || vEnd < videoSent-0.2 || vEnd > videoSent+0.2 {
		t.Fatalf("ivf: ffprobe says %s %dpx, packets end at %.3fs; sent vp8 320px %.3fs", v.Codec, v.Width, vEnd, videoSent)
	}
	if v.Duration < videoSent-0.2 || v.Duration > videoSent+0.2 {
		t.Fatalf("ivf: ffprobe's stream duration %.3fs; sent %.3fs", v.Duration, videoSent)
	}
	if v.Frames < len(vp8)-fps/2 {
		t.Fatalf("ivf: %d frames decoded, %d sent", v.Frames, len(vp8))
	}
	t.Logf("sent %.2fs opus, %.2fs vp8 (%d frames); exported ogg %.3fs, ivf %.3fs (%d frames decoded); %d packets",
		audioSent, videoSent, len(vp8), a.Duration, vEnd, v.Frames, sum.Packets)
}
