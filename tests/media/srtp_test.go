package media_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/media/codec"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// ffmpegSRTPTone sends a 8 kHz sine as PCMU SRTP to addr, keyed with the
// inline key of an a=crypto value (ffmpeg's srtp_out_params is the same
// base64 key and salt).
func ffmpegSRTPTone(t *testing.T, addr, crypto string, freq int, seconds float64) *exec.Cmd {
	t.Helper()
	fields := strings.Fields(crypto)
	if len(fields) < 3 || !strings.HasPrefix(fields[2], "inline:") {
		t.Fatalf("crypto %q", fields[:min(len(fields), 2)])
	}
	key, _, _ := strings.Cut(strings.TrimPrefix(fields[2], "inline:"), "|")
	cmd := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi",
		"-i", fmt.Sprintf("sine=frequency=%d:sample_rate=8000:duration=%g", freq, seconds),
		"-af", "asetnsamples=n=160:p=0", "-ac", "1", "-c:a", "pcm_mulaw", "-f", "rtp", "-payload_type", "0",
		"-srtp_out_suite", fields[1], "-srtp_out_params", key, "srtp://"+addr)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// TestSessionAPISRTPWithFFmpeg: a media server asks the running gateway
// for an SRTP key on the caller track and sends SRTP with it (ffmpeg);
// the agent track stays plain. The recording exports the caller's tone
// sample for sample; the key is in the creating answer only; plain RTP
// sent to an SRTP track is refused and counted, never recorded.
func TestSessionAPISRTPWithFFmpeg(t *testing.T) {
	gatewaytest.NeedFFmpeg(t)
	tg := gatewaytest.Start(t, nil)
	create := func(callID string) gatewaytest.Session {
		t.Helper()
		var s gatewaytest.Session
		code := tg.Do("POST", "/v1/sessions", map[string]any{"callId": callID, "queueId": "sales", "direction": "INBOUND",
			"tracks": []map[string]any{
				{"label": "caller", "kind": "audio", "source": "127.0.0.1", "srtp": map[string]string{"generate": "AES_CM_128_HMAC_SHA1_80"}},
				{"label": "agent", "kind": "audio", "source": "127.0.0.1"}}}, &s)
		if code != http.StatusCreated || !s.Recorded || len(s.Tracks) != 2 {
			t.Fatalf("create: %d %+v", code, s)
		}
		if s.Tracks[0].SRTP == nil || s.Tracks[0].SRTP.Suite != "AES_CM_128_HMAC_SHA1_80" || !strings.Contains(s.Tracks[0].SRTP.Crypto, "inline:") ||
			s.Tracks[1].SRTP != nil {
			t.Fatalf("tracks in the answer: %+v %+v", s.Tracks[0].SRTP, s.Tracks[1].SRTP)
		}
		return s
	}
	s := create("srtp-call")
	var again gatewaytest.Session
	if code := tg.Do("GET", "/v1/sessions/"+s.SessionID, nil, &again); code != http.StatusOK ||
		again.Tracks[0].SRTP == nil || again.Tracks[0].SRTP.Crypto != "" {
		t.Fatalf("GET shows the key or loses the suite: %d %+v", code, again.Tracks[0].SRTP)
	}
	caller := ffmpegSRTPTone(t, s.Tracks[0].RTP, s.Tracks[0].SRTP.Crypto, 440, 3)
	agent := gatewaytest.FFmpegTone(t, s.Tracks[1].RTP, 1000, 3)
	for _, c := range []*exec.Cmd{caller, agent} {
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // the last packets reach the gateway
	sum := tg.End(s)
	if sum.Status != "COMPLETE" || sum.Packets != 300 || sum.Records != 300 || sum.Dropped[media.DropAuth] != 0 {
		t.Fatalf("summary: %+v", sum)
	}
	// The index says how each track travelled, for an auditor.
	idx := tg.Principal("auditor-1").Must(200, "GET", "/api/v2/recordings/"+s.RecordingID, nil)
	if tr := fmt.Sprint(idx["tracks"]); !strings.Contains(tr, "label:caller suite:AES_CM_128_HMAC_SHA1_80 transport:SRTP") ||
		!strings.Contains(tr, "label:agent transport:RTP") {
		t.Fatalf("indexed tracks %s", tr)
	}
	b, res := tg.ExportTrack(s.RecordingID, playback.FormatWAV, "caller")
	if res.Status.String() != "COMPLETE" {
		t.Fatalf("status %s", res.Status)
	}
	got := gatewaytest.ParseWAV(t, b).Samples[0]
	want := codec.DecodeULaw(nil, gatewaytest.FFmpegReference(t, 440, 3))
	if n := min(len(got), len(want)); n < 23000 {
		t.Fatalf("caller: only %d samples", n)
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("caller sample %d is %d, the tone sent over SRTP has %d", i, got[i], want[i])
		}
	}

	// Plain RTP from the sender's host to an SRTP track: refused, counted.
	s2 := create("srtp-plain-injected")
	if err := gatewaytest.FFmpegTone(t, s2.Tracks[0].RTP, 440, 1).Wait(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	sum = tg.End(s2)
	if sum.Dropped[media.DropAuth] < 50 || sum.Records != 0 { // 50 RTP, and ffmpeg's plain RTCP
		t.Fatalf("plain RTP to an SRTP track: %+v", sum)
	}
}

// With media.srtp: required the running gateway refuses a plain RTP track
// with 409 srtp_required, counts it, and records the same call as SRTP.
func TestSRTPRequiredRefusesPlainSessions(t *testing.T) {
	tg := gatewaytest.Start(t, func(c *config.Config) { c.Media.SRTP = config.SRTPRequired })
	track := map[string]any{"label": "caller", "kind": "audio", "source": "127.0.0.1"}
	body := func() map[string]any {
		return map[string]any{"callId": "pci-1", "queueId": "pci", "direction": "INBOUND", "tracks": []map[string]any{track}}
	}
	var refused gatewaytest.ErrorBody
	if code := tg.Do("POST", "/v1/sessions", body(), &refused); code != http.StatusConflict || refused.Code != "srtp_required" ||
		!strings.Contains(refused.Message, "SRTP") {
		t.Fatalf("plain track with media.srtp required: %d %+v", code, refused)
	}
	if v := gatewaytest.CounterWith(gatewaytest.Scrape(t, tg.URL)["mediaseal_sessions_refused_total"], map[string]string{"reason": "srtp_required"}); v != 1 {
		t.Fatalf("srtp_required refusals counted %v, want 1", v)
	}
	track["srtp"] = map[string]string{"generate": "AEAD_AES_128_GCM"}
	var s gatewaytest.Session
	if code := tg.Do("POST", "/v1/sessions", body(), &s); code != http.StatusCreated || !s.Recorded {
		t.Fatalf("SRTP track with media.srtp required: %d %+v", code, s)
	}
	tg.End(s)
}
