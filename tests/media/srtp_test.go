package media_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/media/codec"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// ffmpegSRTPTone sends a sine as SRTP to addr, keyed with the inline key
// of an a=crypto value (ffmpeg's srtp_out_params is the same base64 key
// and salt): PCMU at 8 kHz, or Opus (payload type 111) at 48 kHz.
func ffmpegSRTPTone(t *testing.T, addr, crypto, codec string, freq int, seconds float64) *exec.Cmd {
	t.Helper()
	fields := strings.Fields(crypto)
	if len(fields) < 3 || !strings.HasPrefix(fields[2], "inline:") {
		t.Fatalf("crypto %q", fields[:min(len(fields), 2)])
	}
	key, _, _ := strings.Cut(strings.TrimPrefix(fields[2], "inline:"), "|")
	enc := []string{"-af", "asetnsamples=n=160:p=0", "-ac", "1", "-c:a", "pcm_mulaw", "-payload_type", "0"}
	rate := 8000
	if codec == "opus" {
		enc, rate = []string{"-ac", "1", "-c:a", "libopus", "-b:a", "32k", "-payload_type", "111"}, 48000
	}
	args := append([]string{"-nostdin", "-loglevel", "error", "-re", "-f", "lavfi",
		"-i", fmt.Sprintf("sine=frequency=%d:sample_rate=%d:duration=%g", freq, rate, seconds)}, enc...)
	suite := fields[1]
	if suite == "AES_CM_128_HMAC_SHA1_32" {
		// Under this SDES name ffmpeg tags SRTCP with 32 bits too, where
		// RFC 3711 §3.4 keeps SRTCP at 80 (the gateway refuses those RTCP
		// packets and counts them); its DTLS name for the same keying
		// follows the RFC.
		suite = "SRTP_AES128_CM_HMAC_SHA1_32"
	}
	cmd := exec.Command("ffmpeg", append(args, "-f", "rtp", "-srtp_out_suite", suite, "-srtp_out_params", key, "srtp://"+addr)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// toneAt is the power of freq in samples taken at rate.
func toneAt(samples []int16, freq float64, rate int) float64 {
	k := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + k*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - k*s1*s2
}

// decodeOgg exports track as Ogg Opus and decodes it with ffmpeg to 8 kHz.
func decodeOgg(t *testing.T, tg *gatewaytest.Gateway, id, track string) []int16 {
	t.Helper()
	b, _ := tg.ExportTrack(id, playback.FormatOgg, track)
	in := filepath.Join(t.TempDir(), track+".ogg")
	if err := os.WriteFile(in, b, 0o600); err != nil {
		t.Fatal(err)
	}
	pcm, err := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-i", in, "-f", "s16le", "-ac", "1", "-ar", "8000", "pipe:1").Output()
	if err != nil {
		t.Fatalf("ffmpeg decoding %s: %v", track, err)
	}
	out := make([]int16, len(pcm)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(pcm[2*i:]))
	}
	return out
}

// TestFFmpegSRTPSuitesAndCodecs records two-track calls that ffmpeg sends
// as SRTP under each suite it implements, in PCMU and in Opus, through the
// running gateway: the stereo export holds the caller's tone left and the
// agent's right, and nothing was refused.
func TestFFmpegSRTPSuitesAndCodecs(t *testing.T) {
	gatewaytest.NeedFFmpeg(t)
	tg := gatewaytest.Start(t, nil)
	for _, suite := range []string{"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"} {
		for _, codec := range []string{"PCMU", "opus"} {
			t.Run(suite+"/"+codec, func(t *testing.T) {
				tracks := []map[string]any{}
				for _, label := range []string{"caller", "agent"} {
					tr := map[string]any{"label": label, "kind": "audio", "source": "127.0.0.1", "codec": codec,
						"srtp": map[string]string{"generate": suite}}
					if codec == "opus" {
						tr["payloadType"] = 111
					}
					tracks = append(tracks, tr)
				}
				var s gatewaytest.Session
				if code := tg.Do("POST", "/v1/sessions", map[string]any{"callId": "srtp-" + suite + codec, "queueId": "sales",
					"direction": "INBOUND", "tracks": tracks}, &s); code != http.StatusCreated || !s.Recorded {
					t.Fatalf("create: %d %+v", code, s)
				}
				var cmds []*exec.Cmd
				for i, freq := range []int{440, 1000} {
					cmds = append(cmds, ffmpegSRTPTone(t, s.Tracks[i].RTP, s.Tracks[i].SRTP.Crypto, codec, freq, 2))
				}
				for _, c := range cmds {
					if err := c.Wait(); err != nil {
						t.Fatal(err)
					}
				}
				time.Sleep(100 * time.Millisecond)
				sum := tg.End(s)
				if sum.Status != "COMPLETE" || sum.Records < 180 || sum.Dropped[media.DropAuth] != 0 || sum.Dropped[media.DropReplay] != 0 {
					t.Fatalf("summary: %+v", sum)
				}
				var l, r []int16
				if codec == "opus" { // no Opus decoder in the gateway: Ogg out, decoded by ffmpeg
					l, r = decodeOgg(t, tg, s.RecordingID, "caller"), decodeOgg(t, tg, s.RecordingID, "agent")
				} else {
					b, _ := tg.ExportTrack(s.RecordingID, playback.FormatWAVStereo, "")
					w := gatewaytest.ParseWAV(t, b)
					l, r = w.Samples[0], w.Samples[1]
				}
				if len(l) < 8000 || toneAt(l, 440, 8000) < 10*toneAt(l, 1000, 8000) || toneAt(r, 1000, 8000) < 10*toneAt(r, 440, 8000) {
					t.Fatalf("export (%d samples) does not hold 440 Hz for the caller and 1000 Hz for the agent", len(l))
				}
			})
		}
	}
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
	caller := ffmpegSRTPTone(t, s.Tracks[0].RTP, s.Tracks[0].SRTP.Crypto, "PCMU", 440, 3)
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
