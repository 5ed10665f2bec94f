package audiohook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/mediaseal/mediaseal/media/codec"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

const (
	apiKey = "genesys-api-key-0001"
	orgID  = "d7934305-0972-4844-938e-9060eef73d05"
)

// secret is the integration's client secret as the platform shows it.
var secret = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// upgrade is what a client signs: the request target and authority and
// the AudioHook headers, as the protocol's signature profile covers them.
type upgrade struct {
	url, session, correlation, org, key string
	keyid, nonce                        string
	created, expires                    int64
	secret                              string
	components                          []string // default: the six the profile covers
	tamper                              func(h http.Header)
}

func newUpgrade(tg *gatewaytest.Gateway) *upgrade {
	return &upgrade{url: "ws" + strings.TrimPrefix(tg.URL, "http") + "/audiohook/v1", session: newUUID(), correlation: newUUID(),
		org: orgID, key: apiKey, keyid: apiKey, nonce: newUUID(), created: time.Now().Unix(), expires: time.Now().Unix() + 30, secret: secret}
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// headers signs the upgrade per HTTP Message Signatures (the signature
// base: one `"name": value` line per covered component, then
// "@signature-params"; HMAC-SHA256 with the decoded client secret).
func (u *upgrade) headers() http.Header {
	comps := u.components
	if comps == nil {
		comps = []string{"@request-target", "@authority", "audiohook-organization-id", "audiohook-session-id", "audiohook-correlation-id", "x-api-key"}
	}
	host := strings.TrimPrefix(strings.TrimPrefix(u.url, "ws://"), "wss://")
	host, path, _ := strings.Cut(host, "/")
	values := map[string]string{"@request-target": "/" + path, "@authority": host, "audiohook-organization-id": u.org,
		"audiohook-session-id": u.session, "audiohook-correlation-id": u.correlation, "x-api-key": u.key}
	quoted := make([]string, len(comps))
	var lines []string
	for i, c := range comps {
		quoted[i] = `"` + c + `"`
		lines = append(lines, fmt.Sprintf("%q: %s", c, values[c]))
	}
	params := fmt.Sprintf("(%s);keyid=%q;nonce=%q;alg=\"hmac-sha256\";created=%d;expires=%d", strings.Join(quoted, " "),
		u.keyid, u.nonce, u.created, u.expires)
	lines = append(lines, `"@signature-params": `+params)
	key, _ := base64.StdEncoding.DecodeString(u.secret)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.Join(lines, "\n")))
	h := http.Header{}
	h.Set("Audiohook-Organization-Id", u.org)
	h.Set("Audiohook-Session-Id", u.session)
	h.Set("Audiohook-Correlation-Id", u.correlation)
	h.Set("X-API-KEY", u.key)
	h.Set("Signature-Input", "sig1="+params)
	h.Set("Signature", "sig1=:"+base64.StdEncoding.EncodeToString(m.Sum(nil))+":")
	if u.tamper != nil {
		u.tamper(h)
	}
	return h
}

// dial opens the session's WebSocket; a refused upgrade returns its status.
func (u *upgrade) dial(t *testing.T) (*client, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, u.url, &websocket.DialOptions{HTTPHeader: u.headers()})
	if err != nil {
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { c.CloseNow() })
	cl := &client{t: t, c: c, id: u.session, in: make(chan map[string]any, 64)}
	go cl.read()
	return cl, http.StatusSwitchingProtocols
}

// client is an AudioHook client: it numbers its messages, acknowledges
// the server's, and counts the position of the audio it sent.
type client struct {
	t         *testing.T
	c         *websocket.Conn
	id        string
	seq       int64
	serverSeq atomic.Int64
	pos       time.Duration
	in        chan map[string]any
	closeCode atomic.Int64
}

func (cl *client) read() {
	defer close(cl.in)
	for {
		_, b, err := cl.c.Read(context.Background())
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				cl.closeCode.Store(int64(ce.Code))
			}
			return
		}
		var m map[string]any
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		if s, ok := m["seq"].(float64); ok {
			cl.serverSeq.Store(int64(s))
		}
		cl.in <- m
	}
}

func duration(d time.Duration) string {
	return "PT" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S"
}

// send writes one client message.
func (cl *client) send(typ string, params any) {
	cl.t.Helper()
	cl.seq++
	cl.raw(map[string]any{"version": "2", "id": cl.id, "type": typ, "seq": cl.seq, "serverseq": cl.serverSeq.Load(),
		"position": duration(cl.pos), "parameters": params})
}

func (cl *client) raw(m any) {
	cl.t.Helper()
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.c.Write(ctx, websocket.MessageText, b); err != nil {
		cl.t.Fatalf("write %s: %v", b, err)
	}
}

// audio sends a frame of stereo μ-law (external, internal interleaved):
// d of the caller's and the agent's tones from the current position.
func (cl *client) audio(d time.Duration, callerHz, agentHz float64) {
	cl.t.Helper()
	start := int(cl.pos * 8000 / time.Second)
	n := int(d * 8000 / time.Second)
	b := make([]byte, 2*n)
	for i := range n {
		k := float64(start + i)
		b[2*i] = codec.LinearToULaw(int16(8000 * math.Sin(2*math.Pi*callerHz*k/8000)))
		b[2*i+1] = codec.LinearToULaw(int16(8000 * math.Sin(2*math.Pi*agentHz*k/8000)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.c.Write(ctx, websocket.MessageBinary, b); err != nil {
		cl.t.Fatalf("audio: %v", err)
	}
	cl.pos += d
}

// expect waits for the server's next message of type typ.
func (cl *client) expect(typ string) map[string]any {
	cl.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-cl.in:
			if !ok {
				cl.t.Fatalf("connection closed (code %d) waiting for %s", cl.closeCode.Load(), typ)
			}
			if m["type"] == typ {
				if m["id"] != cl.id || m["version"] != "2" || m["clientseq"] == nil {
					cl.t.Fatalf("server message %v: wrong id, version or no clientseq", m)
				}
				return m
			}
			cl.t.Logf("skipped %v waiting for %s", m["type"], typ)
		case <-timeout:
			cl.t.Fatalf("no %s from the server", typ)
		}
	}
}

// openParams is an open message's parameters offering media.
func openParams(conversation string, media ...map[string]any) map[string]any {
	return map[string]any{"organizationId": orgID, "conversationId": conversation,
		"participant": map[string]any{"id": newUUID(), "ani": "+441632960123", "aniName": "A Caller", "dnis": "+441632960999"},
		"media":       media, "language": "en-GB",
		"customConfig": map[string]any{"queueId": "support", "agentId": "agent-7", "direction": "inbound"}}
}

var (
	pcmuStereo = map[string]any{"type": "audio", "format": "PCMU", "channels": []string{"external", "internal"}, "rate": 8000}
	l16Stereo  = map[string]any{"type": "audio", "format": "L16", "channels": []string{"external", "internal"}, "rate": 8000}
)

// counter reads a counter of the endpoint from /metrics.
func counter(t *testing.T, tg *gatewaytest.Gateway, name, reason string) float64 {
	t.Helper()
	f := gatewaytest.Scrape(t, tg.URL)[name]
	if f == nil {
		return 0
	}
	return gatewaytest.CounterWith(f, map[string]string{"reason": reason})
}

func base64Secret(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// waitCounter waits until a counter reaches want (a session's end is
// counted once its WebSocket has closed).
func waitCounter(t *testing.T, tg *gatewaytest.Gateway, name, reason string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := counter(t, tg, name, reason)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s{reason=%s} = %v, want %v", name, reason, got, want)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
