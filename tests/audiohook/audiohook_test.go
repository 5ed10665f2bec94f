package audiohook

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

const (
	callerHz = 600
	agentHz  = 1400
)

// start runs a gateway with one AudioHook integration.
func start(t *testing.T, edit func(*config.AudioHook)) *gatewaytest.Gateway {
	t.Helper()
	f := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(f, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return gatewaytest.Start(t, func(c *config.Config) {
		c.AudioHook.Integrations = []config.AudioHookIntegration{{Name: "genesys", APIKey: apiKey, ClientSecretFile: f, OrganizationID: orgID}}
		if edit != nil {
			edit(&c.AudioHook)
		}
	})
}

// session waits for the media session of conversation.
func session(t *testing.T, tg *gatewaytest.Gateway, conversation string) *media.Session {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, s := range tg.Media().Sessions() {
			if s.Request.CallID == conversation {
				return s
			}
		}
	}
	t.Fatalf("no session for conversation %s", conversation)
	return nil
}

// Upgrades that are not signed by the integration, or whose signature is
// stale, replayed, covers too little or was made for other headers, are
// refused with 401 before the upgrade and counted by reason.
func TestAudioHookUpgradeSignature(t *testing.T) {
	tg := start(t, nil)
	good := newUpgrade(tg)
	if c, code := good.dial(t); code != http.StatusSwitchingProtocols {
		t.Fatalf("signed upgrade answered %d", code)
	} else {
		c.c.Close(websocket.StatusNormalClosure, "")
	}
	other := base64Secret("another-secret-of-32-bytes-long!")
	for name, u := range map[string]func(u *upgrade){
		"replayed nonce":    func(u *upgrade) { u.nonce, u.session, u.correlation = good.nonce, good.session, good.correlation },
		"wrong secret":      func(u *upgrade) { u.secret = other },
		"unknown key":       func(u *upgrade) { u.key, u.keyid = "someone-elses-key", "someone-elses-key" },
		"keyid not the key": func(u *upgrade) { u.keyid = "someone-elses-key" },
		"stale": func(u *upgrade) {
			u.created, u.expires = time.Now().Add(-20*time.Minute).Unix(), time.Now().Add(-19*time.Minute).Unix()
		},
		"from the future": func(u *upgrade) {
			u.created, u.expires = time.Now().Add(10*time.Minute).Unix(), time.Now().Add(11*time.Minute).Unix()
		},
		"too long a life":     func(u *upgrade) { u.expires = time.Now().Add(24 * time.Hour).Unix() },
		"api key not covered": func(u *upgrade) { u.components = []string{"@request-target", "@authority", "audiohook-session-id"} },
		"session id changed":  func(u *upgrade) { u.tamper = func(h http.Header) { h.Set("Audiohook-Session-Id", newUUID()) } },
		"unsigned":            func(u *upgrade) { u.tamper = func(h http.Header) { h.Del("Signature"); h.Del("Signature-Input") } },
		"other organization":  func(u *upgrade) { u.org = "00000000-0000-0000-0000-000000000001" },
	} {
		up := newUpgrade(tg)
		u(up)
		if _, code := up.dial(t); code != http.StatusUnauthorized {
			t.Errorf("%s: upgrade answered %d, want 401", name, code)
		}
	}
	for reason, want := range map[string]float64{"replayed_nonce": 1, "bad_signature": 2, "unknown_key": 2, "stale": 3,
		"malformed": 1, "missing": 1, "organization": 1} {
		if n := counter(t, tg, "mediaseal_audiohook_refused_total", reason); n != want {
			t.Errorf("refused %s = %v, want %v", reason, n, want)
		}
	}
}

// A whole session: open negotiates PCMU stereo out of the offer, the call
// fields come from open, ping is answered, a server-initiated pause (the
// session API's secure pause) asks the client to pause, the client's
// paused/resumed and a discarded span leave silence of their length, and
// close is answered with closed. The stereo WAV has the caller left and
// the agent right, and lasts the session's timeline.
func TestAudioHookSessionRecords(t *testing.T) {
	tg := start(t, nil)
	conv := newUUID()
	cl, code := newUpgrade(tg).dial(t)
	if code != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade %d", code)
	}
	cl.send("open", openParams(conv, l16Stereo, pcmuStereo))
	opened := cl.expect("opened")
	media0 := opened["parameters"].(map[string]any)["media"].([]any)[0].(map[string]any)
	if media0["format"] != "PCMU" || len(media0["channels"].([]any)) != 2 {
		t.Fatalf("opened %v, want PCMU stereo", opened)
	}
	sess := session(t, tg, conv)
	if r := sess.Request; r.QueueID != "support" || r.CallerID != "+441632960123" || r.AgentID != "agent-7" || r.Direction != "INBOUND" {
		t.Errorf("call fields %+v", r)
	}
	if len(sess.Tracks) != 2 || sess.Tracks[0].Label != "caller" || sess.Tracks[1].Label != "agent" || !sess.Recorded() {
		t.Fatalf("tracks %+v recorded %v", sess.Tracks, sess.Recorded())
	}
	cl.send("ping", map[string]any{"rtt": "PT0.05S"})
	cl.expect("pong")
	for range 10 { // 0-1 s
		cl.audio(100*time.Millisecond, callerHz, agentHz)
		time.Sleep(100 * time.Millisecond)
	}
	// The session API pauses: the client is asked to pause, does, and
	// when the API resumes it is asked to resume; its 0.5 s are silence.
	if _, err := tg.Media().Pause(sess.ID, true); err != nil {
		t.Fatal(err)
	}
	cl.expect("pause")
	cl.send("paused", map[string]any{})
	time.Sleep(500 * time.Millisecond)
	if _, err := tg.Media().Pause(sess.ID, false); err != nil {
		t.Fatal(err)
	}
	cl.expect("resume")
	cl.pos += 500 * time.Millisecond
	cl.send("resumed", map[string]any{"start": "PT1S", "discarded": "PT0.5S"})
	for range 5 { // 1.5-2 s
		cl.audio(100*time.Millisecond, callerHz, agentHz)
		time.Sleep(100 * time.Millisecond)
	}
	cl.pos += 500 * time.Millisecond // the client dropped 2-2.5 s and says so
	cl.send("discarded", map[string]any{"start": "PT2S", "discarded": "PT0.5S"})
	for range 5 { // 2.5-3 s
		cl.audio(100*time.Millisecond, callerHz, agentHz)
		time.Sleep(100 * time.Millisecond)
	}
	cl.send("update", map[string]any{"language": "fr-FR"})
	cl.expect("updated")
	cl.send("close", map[string]any{"reason": "end"})
	cl.expect("closed")
	select {
	case <-sess.Ended():
	case <-time.After(10 * time.Second):
		t.Fatal("session not ended after close")
	}
	if sum := sess.Summary(); sum.Status != "COMPLETE" || sum.EndReason != "audiohook-close" {
		t.Fatalf("summary %+v", sum)
	}

	b, _ := tg.ExportTrack(sess.RecordingID, playback.FormatWAVStereo, "")
	w := gatewaytest.ParseWAV(t, b)
	if w.Channels != 2 || w.Rate != 8000 {
		t.Fatalf("wav %d channels %d Hz", w.Channels, w.Rate)
	}
	if d := float64(len(w.Samples[0])) / 8000; d < 2.95 || d > 3.1 {
		t.Errorf("duration %.3f s, want 3 s (the timeline, pause and discarded span included)", d)
	}
	const frame = 800 // 100 ms
	silent := func(at float64) bool { return (at >= 1.0 && at < 1.5) || (at >= 2.0 && at < 2.5) }
	for f := 0; f < len(w.Samples[0])/frame; f++ {
		at := float64(f) / 10
		l, r := w.Samples[0][f*frame:(f+1)*frame], w.Samples[1][f*frame:(f+1)*frame]
		if silent(at) {
			if gatewaytest.RMS(l) > 50 || gatewaytest.RMS(r) > 50 {
				t.Errorf("%.1f s: not silent in the paused or discarded span (rms %.0f, %.0f)", at, gatewaytest.RMS(l), gatewaytest.RMS(r))
			}
			continue
		}
		if gc, ga := gatewaytest.Goertzel(l, callerHz), gatewaytest.Goertzel(l, agentHz); gc < 10*ga || gatewaytest.RMS(l) < 1000 {
			t.Errorf("%.1f s: left channel is not the caller's %d Hz", at, callerHz)
		}
		if ga, gc := gatewaytest.Goertzel(r, agentHz), gatewaytest.Goertzel(r, callerHz); ga < 10*gc || gatewaytest.RMS(r) < 1000 {
			t.Errorf("%.1f s: right channel is not the agent's %d Hz", at, agentHz)
		}
	}
	if n := counter(t, tg, "mediaseal_audiohook_sessions_ended_total", "close"); n != 1 {
		t.Errorf("ended close = %v", n)
	}
}
