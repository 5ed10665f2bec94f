package twilio_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/storage/seal"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

const (
	fixtureAccount = "AC25e16e9a716a4a1786a7c83f58e30482"
	fixtureCall    = "CA2d7f4cf7c2c5e0b6b36ea7b0fcbd2e4a"
	authToken      = "0c4e5f0d9b8a7c6d5e4f3a2b1c0d9e8f"
)

// sign is Twilio's signature of a WebSocket URL, written here from
// Twilio's documentation rather than taken from the gateway's code.
func sign(token, url string) string {
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(url))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// TestTwilioStreamRecordsBothTracks: the gateway takes streams signed with
// the account's auth token (as Twilio sends them). Unsigned, wrongly
// signed and bearer-only upgrades are refused with 401 before the
// upgrade and counted. The recorded stream is sent in one burst, so that
// only its timestamps can give the recording its true length; the
// call fields come from customParameters, the stereo WAV has the caller's
// tone left and the agent's right, lasts the stream's 3 s, keeps the
// caller's half-second gap silent, and the DTMF digit is in the records.
func TestTwilioStreamRecordsBothTracks(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "twilio-auth-token")
	if err := os.WriteFile(tokenFile, []byte(authToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tg := gatewaytest.Start(t, func(c *config.Config) {
		c.Twilio.Auth, c.Twilio.AuthTokenFile, c.Twilio.AccountSid = "signature", tokenFile, fixtureAccount
	})
	url := wsURL(tg)
	for name, hdr := range map[string]http.Header{
		"unsigned":       {},
		"other token":    {"X-Twilio-Signature": {sign("not-the-auth-token", url)}},
		"other url":      {"X-Twilio-Signature": {sign(authToken, url+"?queueId=vip")}},
		"two signatures": {"X-Twilio-Signature": {sign(authToken, url), sign(authToken, url)}},
		"bearer only":    {"Authorization": {"Bearer " + tg.Token}},
		"garbage":        {"X-Twilio-Signature": {"%%%"}},
	} {
		if _, code := dial(t, url, hdr); code != http.StatusUnauthorized {
			t.Errorf("%s: upgrade answered %d, want 401", name, code)
		}
	}
	if n := twilioCounter(t, tg, "mediaseal_twilio_refused_total", "bad_signature"); n != 6 {
		t.Errorf("refused bad_signature = %v, want 6", n)
	}

	c, code := dial(t, url, http.Header{"X-Twilio-Signature": {sign(authToken, url)}})
	if code != http.StatusSwitchingProtocols {
		t.Fatalf("signed upgrade answered %d", code)
	}
	msgs := fixture(t)
	done := make(chan struct{})
	go func() { defer close(done); send(t, c, msgs, false) }()
	sess := liveSession(t, tg, fixtureCall)
	r := sess.Request
	if r.QueueID != "support" || r.CallerID != "+441632960123" || r.AgentID != "agent-7" || r.Direction != "INBOUND" {
		t.Errorf("call fields %+v", r)
	}
	if len(sess.Tracks) != 2 || sess.Tracks[0].Label != "caller" || sess.Tracks[1].Label != "agent" || !sess.Recorded() {
		t.Fatalf("tracks %+v recorded %v", sess.Tracks, sess.Recorded())
	}
	<-done
	if code, reason := closeOf(t, c); code != websocket.StatusNormalClosure {
		t.Fatalf("close after stop: %d %q", code, reason)
	}
	select {
	case <-sess.Ended():
	case <-time.After(10 * time.Second):
		t.Fatal("session not ended after stop")
	}
	sum := sess.Summary()
	if sum.Status != "COMPLETE" || sum.EndReason != "twilio-stop" {
		t.Fatalf("summary %+v", sum)
	}

	b, _ := tg.ExportTrack(sess.RecordingID, playback.FormatWAVStereo, "")
	w := gatewaytest.ParseWAV(t, b)
	if w.Channels != 2 || w.Rate != 8000 {
		t.Fatalf("wav %d channels %d Hz", w.Channels, w.Rate)
	}
	if d := float64(len(w.Samples[0])) / 8000; d < fixtureSec-0.02 || d > fixtureSec+0.1 {
		t.Errorf("duration %.3f s, want %.1f s (placed by timestamp)", d, fixtureSec)
	}
	const frame = 800 // 100 ms
	for f := 0; f < len(w.Samples[0])/frame-1; f++ {
		at := float64(f) / 10
		l, rt := w.Samples[0][f*frame:(f+1)*frame], w.Samples[1][f*frame:(f+1)*frame]
		if gr, ga := gatewaytest.Goertzel(rt, agentHz), gatewaytest.Goertzel(rt, callerHz); ga*10 > gr {
			t.Errorf("%.1f s: right channel is not the agent's %d Hz", at, agentHz)
		}
		switch {
		case at > gapFrom && at+0.1 < gapTo: // wholly inside the gap
			if gatewaytest.RMS(l) > 50 {
				t.Errorf("%.1f s: left channel not silent in the caller's gap (rms %.0f)", at, gatewaytest.RMS(l))
			}
		case at+0.1 <= gapFrom || at >= gapTo+0.05:
			if gc, ga := gatewaytest.Goertzel(l, callerHz), gatewaytest.Goertzel(l, agentHz); gc < 10*ga || gatewaytest.RMS(l) < 1000 {
				t.Errorf("%.1f s: left channel is not the caller's %d Hz", at, callerHz)
			}
		}
	}

	rec, err := tg.OpenRecording(context.Background(), sess.RecordingID)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	digits := 0
	if _, err := rec.Records(func(r seal.Record) error {
		if r.Type == seal.RecordEvent && strings.Contains(string(r.Data), `"digit":"7"`) && r.Track == 0 {
			digits++
		}
		return nil
	}); err != nil || digits != 1 {
		t.Fatalf("records: %v, %d DTMF events with digit 7 on the caller track (want 1)", err, digits)
	}
}
