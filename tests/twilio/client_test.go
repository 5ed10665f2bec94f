package twilio_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/mediaseal/mediaseal/media"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// fixture is testdata/stream.jsonl (gen_stream.py): one message a line.
func fixture(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("testdata/stream.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil || len(out) < 10 {
		t.Fatalf("fixture: %v, %d messages", err, len(out))
	}
	return out
}

// The fixture's tones and shape (gen_stream.py).
const (
	callerHz   = 600
	agentHz    = 1400
	fixtureSec = 3.0
	gapFrom    = 1.0 // no inbound chunks from here...
	gapTo      = 1.5 // ...to here
)

// wsURL is the gateway's Twilio endpoint as a ws:// URL.
func wsURL(tg *gatewaytest.Gateway) string {
	return "ws" + strings.TrimPrefix(tg.URL, "http") + "/twilio/v1"
}

// dial opens the stream's WebSocket with hdr; on a refused upgrade it
// returns the HTTP status.
func dial(t *testing.T, url string, hdr http.Header) (*websocket.Conn, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { c.CloseNow() })
	return c, http.StatusSwitchingProtocols
}

// send writes msgs; paced, each media message no earlier than its
// timestamp after the first (as Twilio sends them, in real time),
// otherwise all at once (as after a network stall).
func send(t *testing.T, c *websocket.Conn, msgs []string, paced bool) {
	t.Helper()
	start := time.Now()
	for _, m := range msgs {
		var probe struct {
			Media *struct {
				Timestamp string `json:"timestamp"`
			} `json:"media"`
		}
		if paced && json.Unmarshal([]byte(m), &probe) == nil && probe.Media != nil {
			var ms int
			if _, err := fmt.Sscan(probe.Media.Timestamp, &ms); err == nil {
				time.Sleep(time.Until(start.Add(time.Duration(ms) * time.Millisecond)))
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := c.Write(ctx, websocket.MessageText, []byte(m))
		cancel()
		if err != nil {
			t.Fatalf("write: %v", err)
		}
	}
}

// closeOf waits for the gateway's close frame and returns its status and text.
func closeOf(t *testing.T, c *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason
		}
		t.Fatalf("no close frame: %v", err)
	}
}

// liveSession waits for the media session of callID.
func liveSession(t *testing.T, tg *gatewaytest.Gateway, callID string) *media.Session {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, s := range tg.Media().Sessions() {
			if s.Request.CallID == callID {
				return s
			}
		}
	}
	t.Fatalf("no session for call %s", callID)
	return nil
}

// twilioCounter reads a counter of the endpoint from /metrics.
func twilioCounter(t *testing.T, tg *gatewaytest.Gateway, name, reason string) float64 {
	t.Helper()
	f := gatewaytest.Scrape(t, tg.URL)[name]
	if f == nil {
		return 0
	}
	return gatewaytest.CounterWith(f, map[string]string{"reason": reason})
}
