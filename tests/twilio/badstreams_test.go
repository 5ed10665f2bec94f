package twilio_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestTwilioBearerAuthAndLimits: with auth bearer (the default) the
// upgrade needs a token with media:ingest: none, a wrong one or a
// signature instead is 401, a principal's token without the scope 403,
// all before the upgrade and counted. A principal over its live streams
// gets 429; a stream that sends nothing is closed at the idle timeout.
func TestTwilioBearerAuthAndLimits(t *testing.T) {
	tg := gatewaytest.Start(t, func(c *config.Config) {
		c.Twilio.MaxStreamsPerPrincipal = 2
		c.Twilio.IdleTimeout = config.Duration(time.Second)
	})
	url := wsURL(tg)
	for name, tc := range map[string]struct {
		hdr  http.Header
		want int
	}{
		"no token":       {http.Header{}, http.StatusUnauthorized},
		"wrong token":    {http.Header{"Authorization": {"Bearer " + strings.Repeat("a", 64)}}, http.StatusUnauthorized},
		"signature only": {http.Header{"X-Twilio-Signature": {sign(authToken, url)}}, http.StatusUnauthorized},
		"basic":          {http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, http.StatusUnauthorized},
		"no ingest scope": {http.Header{"Authorization": {"Bearer " + tg.Principal("auditor-1").Token}},
			http.StatusForbidden},
	} {
		if _, code := dial(t, url, tc.hdr); code != tc.want {
			t.Errorf("%s: upgrade answered %d, want %d", name, code, tc.want)
		}
	}
	if n := twilioCounter(t, tg, "mediaseal_twilio_refused_total", "unauthenticated"); n != 4 {
		t.Errorf("refused unauthenticated = %v, want 4", n)
	}
	if n := twilioCounter(t, tg, "mediaseal_twilio_refused_total", "forbidden"); n != 1 {
		t.Errorf("refused forbidden = %v, want 1", n)
	}

	bearer := http.Header{"Authorization": {"Bearer " + tg.Token}}
	a, _ := dial(t, url, bearer)
	b, _ := dial(t, url, bearer)
	if a == nil || b == nil {
		t.Fatal("two streams of one principal refused")
	}
	if _, code := dial(t, url, bearer); code != http.StatusTooManyRequests {
		t.Errorf("third stream of the principal: %d, want 429", code)
	}
	start := time.Now()
	if code, reason := closeOf(t, a); code != websocket.StatusPolicyViolation || !strings.HasPrefix(reason, "idle") {
		t.Errorf("idle stream closed with %d %q", code, reason)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("idle stream closed after %s (idleTimeout 1s)", d)
	}
	closeOf(t, b)
	var c *websocket.Conn
	for deadline := time.Now().Add(5 * time.Second); c == nil && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		c, _ = dial(t, url, bearer) // the slots are free again once both handlers returned
	}
	if c == nil {
		t.Fatal("the principal's streams were not released after they closed")
	}
}

// TestTwilioBadStreams: each malformed sequence is closed with a clear
// status and reason, counted by reason, ends the session it opened (no
// session left behind), and the gateway keeps serving.
func TestTwilioBadStreams(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	msgs := fixture(t)
	connected, start, media1, media2 := msgs[0], msgs[1], msgs[2], msgs[3] // media seq 2 (inbound), seq 3 (outbound)
	seq := func(m, from, to string) string {
		return strings.Replace(m, `"sequenceNumber":"`+from+`"`, `"sequenceNumber":"`+to+`"`, 1)
	}
	cases := []struct {
		name   string
		send   []string
		binary bool
		code   websocket.StatusCode
		reason string
	}{
		{"media before start", []string{connected, seq(media1, "2", "1")}, false, websocket.StatusPolicyViolation, "state"},
		{"no connected", []string{start}, false, websocket.StatusPolicyViolation, "state"},
		{"connected twice", []string{connected, connected}, false, websocket.StatusPolicyViolation, "state"},
		{"start twice", []string{connected, start, seq(start, "1", "2")}, false, websocket.StatusPolicyViolation, "state"},
		{"sequence gap", []string{connected, start, media2}, false, websocket.StatusPolicyViolation, "sequence"},
		{"sequence replay", []string{connected, start, media1, seq(media2, "3", "2")}, false, websocket.StatusPolicyViolation, "sequence"},
		{"unknown event", []string{connected, start, `{"event":"clear","sequenceNumber":"2","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0"}`}, false, websocket.StatusPolicyViolation, "unknown_event"},
		{"not json", []string{connected, `{"event":"media",`}, false, websocket.StatusPolicyViolation, "malformed"},
		{"duplicate key", []string{connected, start, strings.Replace(media1, `"track":"inbound"`, `"track":"inbound","track":"outbound"`, 1)}, false, websocket.StatusPolicyViolation, "malformed"},
		{"other stream", []string{connected, start, strings.ReplaceAll(media1, "MZ18ad3ab5a668481ce02b83e7395059f0", "MZ18ad3ab5a668481ce02b83e7395059f1")}, false, websocket.StatusPolicyViolation, "state"},
		{"pcm format", []string{connected, strings.Replace(start, "audio/x-mulaw", "audio/l16", 1)}, false, websocket.StatusUnsupportedData, "format"},
		{"16 kHz", []string{connected, strings.Replace(start, `"sampleRate":8000`, `"sampleRate":16000`, 1)}, false, websocket.StatusUnsupportedData, "format"},
		{"far-future timestamp", []string{connected, start, strings.Replace(media1, `"timestamp":"0"`, `"timestamp":"600000"`, 1)}, false, websocket.StatusPolicyViolation, "timestamp"},
		{"bad direction", []string{connected, strings.Replace(start, `"queueId":"support"`, `"queueId":"support","direction":"sideways"`, 1)}, false, websocket.StatusPolicyViolation, "invalid_call"},
		{"binary frame", []string{connected}, true, websocket.StatusPolicyViolation, "binary"},
		{"too big", []string{connected, `{"event":"mark","pad":"` + strings.Repeat("x", 70<<10) + `"}`}, false, websocket.StatusMessageTooBig, "too_big"},
	}
	bearer := http.Header{"Authorization": {"Bearer " + tg.Token}}
	for _, tc := range cases {
		c, code := dial(t, wsURL(tg), bearer)
		if c == nil {
			t.Fatalf("%s: upgrade %d", tc.name, code)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		for _, m := range tc.send {
			_ = c.Write(ctx, websocket.MessageText, []byte(m)) // the gateway may close before the last
		}
		if tc.binary {
			_ = c.Write(ctx, websocket.MessageBinary, []byte{0xff, 0x7f})
		}
		cancel()
		got, text := closeOf(t, c)
		if got != tc.code || (tc.code != websocket.StatusMessageTooBig && !strings.HasPrefix(text, tc.reason)) {
			t.Errorf("%s: closed %d %q, want %d %s", tc.name, got, text, tc.code, tc.reason)
		}
	}
	want := map[string]float64{}
	for _, tc := range cases {
		want[tc.reason]++
	}
	deadline := time.Now().Add(5 * time.Second)
	for reason, n := range want {
		for twilioCounter(t, tg, "mediaseal_twilio_streams_ended_total", reason) != n && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if got := twilioCounter(t, tg, "mediaseal_twilio_streams_ended_total", reason); got != n {
			t.Errorf("streams ended %s = %v, want %v", reason, got, n)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); len(tg.Media().Sessions()) > 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if ss := tg.Media().Sessions(); len(ss) != 0 {
		t.Errorf("%d sessions left behind by refused streams", len(ss))
	}
	// A repeated chunk and a chunk overlapping audio already placed are
	// dropped and counted; the stream goes on to its stop.
	c, _ := dial(t, wsURL(tg), bearer)
	stop := msgs[len(msgs)-1]
	stop = stop[:strings.Index(stop, `"sequenceNumber":"`)] + `"sequenceNumber":"5"` + stop[strings.Index(stop, `","streamSid"`)+1:]
	overlap := strings.Replace(seq(media1, "2", "4"), `"chunk":"1"`, `"chunk":"2"`, 1)
	send(t, c, []string{connected, start, media1, seq(media1, "2", "3"), overlap, stop}, false)
	if code, text := closeOf(t, c); code != websocket.StatusNormalClosure {
		t.Errorf("stream with dropped chunks closed %d %q", code, text)
	}
	for _, reason := range []string{"chunk_order", "overlap"} {
		if n := twilioCounter(t, tg, "mediaseal_twilio_dropped_total", reason); n != 1 {
			t.Errorf("dropped %s = %v, want 1", reason, n)
		}
	}
	if code, _ := tg.Readyz(); code != http.StatusOK {
		t.Errorf("readyz %d after the bad streams", code)
	}
}
