package whip_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestWHIPAudioOnlyPolicy: under an AUDIO policy the offer's video is
// answered (the browser may send it) but never recorded; ending the call
// through the session API ends the WHIP session too.
func TestWHIPAudioOnlyPolicy(t *testing.T) {
	gatewaytest.NeedFFmpeg(t)
	tg := gatewaytest.Start(t, func(c *config.Config) {
		for i := range c.Policies {
			c.Policies[i].RecordingType = policy.RecordingAudio
		}
	})
	opus := gatewaytest.FFmpegOpusPackets(t, 2)
	vp8 := gatewaytest.FFmpegVP8Frames(t, 2, 30)
	p := newPublisher(t, true, true)
	p.publish(tg, callQuery(fmt.Sprintf("audio-only-%d", time.Now().UnixNano())))
	var sid string
	for _, s := range tg.Media().Sessions() {
		if s.Request.External {
			sid = s.ID
			if len(s.Tracks) != 1 || s.Tracks[0].Kind != "audio" {
				t.Fatalf("recorded tracks %+v, want the audio only", s.Tracks)
			}
		}
	}
	done := make(chan struct{})
	go func() { defer close(done); send(t, p.video, vp8, time.Second/30) }()
	send(t, p.audio, opus, 20*time.Millisecond)
	<-done
	time.Sleep(200 * time.Millisecond)
	sum := tg.End(gatewaytest.Session{SessionID: sid}) // DELETE /v1/sessions/{id}
	if sum.Status != "COMPLETE" || sum.Dropped["malformed"] != 0 {
		t.Fatalf("summary %+v", sum)
	}
	// The WHIP session is gone with it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := tg.WhipRequest("DELETE", p.location, "", "", nil)
		gatewaytest.ReadAll(t, resp)
		if resp.StatusCode == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("WHIP session still there after the call ended: %d", resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
	tg.WaitStored(sum.RecordingID)
	b, _ := tg.ExportTrack(sum.RecordingID, playback.FormatOgg, "")
	if a := gatewaytest.FFprobeStream(t, gatewaytest.WriteTemp(t, "a.ogg", b), "a"); a.Codec != "opus" || a.Duration < 1.8 || a.Duration > 2.25 {
		t.Fatalf("ogg %+v", a)
	}
	if _, err := tg.Export(t.Context(), sum.RecordingID, playback.FormatIVF, "", new(discard)); err == nil {
		t.Fatal("an audio-only recording exported video")
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestWHIPNotRecorded: a call no policy records is answered with
// X-Mediaseal-Recorded: false and its WHIP session outlives the media
// inactivity timeout (it delivers no packets by design) until DELETE.
func TestWHIPNotRecorded(t *testing.T) {
	tg := gatewaytest.Start(t, func(c *config.Config) {
		for i := range c.Policies {
			c.Policies[i].RecordingType = policy.RecordingNone
		}
		c.Media.InactivityTimeout = config.Duration(200 * time.Millisecond)
	})
	p := newPublisher(t, true, false)
	resp := tg.WhipRequest("POST", "/whip"+callQuery("not-recorded-1"), sdpType, p.offer, nil)
	gatewaytest.ReadAll(t, resp)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("X-Mediaseal-Recorded") != "false" {
		t.Fatalf("POST: %d recorded=%q", resp.StatusCode, resp.Header.Get("X-Mediaseal-Recorded"))
	}
	time.Sleep(800 * time.Millisecond) // several inactivity timeouts
	resp = tg.WhipRequest("DELETE", resp.Header.Get("Location"), "", "", nil)
	if body := gatewaytest.ReadAll(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"NOT_RECORDED"`) {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
	}
}
