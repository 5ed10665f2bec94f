package audiohook

import (
	"net/http"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/internal/config"
)

// Every protocol violation a client (or whoever holds its connection)
// can commit ends the session with a disconnect (reason error) naming it,
// counted by reason; none crashes the gateway or records anything past it.
func TestAudioHookProtocolErrors(t *testing.T) {
	tg := start(t, func(a *config.AudioHook) {
		a.IdleTimeout = config.Duration(time.Second)
		a.MaxFrameBytes = 4096
	})
	opened := func(t *testing.T) *client {
		cl, code := newUpgrade(tg).dial(t)
		if code != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade %d", code)
		}
		cl.send("open", openParams(newUUID(), pcmuStereo))
		cl.expect("opened")
		return cl
	}
	cases := []struct {
		reason string
		do     func(t *testing.T) *client
	}{
		{"state", func(t *testing.T) *client { // audio before open
			cl, _ := newUpgrade(tg).dial(t)
			cl.audio(20*time.Millisecond, callerHz, agentHz)
			return cl
		}},
		{"state", func(t *testing.T) *client { // ping before open
			cl, _ := newUpgrade(tg).dial(t)
			cl.send("ping", map[string]any{})
			return cl
		}},
		{"media", func(t *testing.T) *client { // nothing recordable offered
			cl, _ := newUpgrade(tg).dial(t)
			cl.send("open", openParams(newUUID(), l16Stereo))
			return cl
		}},
		{"sequence", func(t *testing.T) *client {
			cl := opened(t)
			cl.seq++ // skips one
			cl.send("ping", map[string]any{})
			return cl
		}},
		{"sequence", func(t *testing.T) *client { // acknowledges a server message never sent
			cl := opened(t)
			cl.serverSeq.Store(99)
			cl.send("ping", map[string]any{})
			return cl
		}},
		{"session_id", func(t *testing.T) *client {
			cl := opened(t)
			own := cl.id
			cl.id = newUUID()
			cl.send("ping", map[string]any{})
			cl.id = own // the server answers with the session's id
			return cl
		}},
		{"malformed", func(t *testing.T) *client {
			cl := opened(t)
			cl.raw(map[string]any{"version": "2", "id": cl.id, "type": "ping", "seq": "two"})
			return cl
		}},
		{"malformed", func(t *testing.T) *client { // an unknown message type
			cl := opened(t)
			cl.send("transcribe", map[string]any{})
			return cl
		}},
		{"state", func(t *testing.T) *client {
			cl := opened(t)
			cl.send("open", openParams(newUUID(), pcmuStereo))
			return cl
		}},
		{"frame", func(t *testing.T) *client { // half a stereo sample
			cl := opened(t)
			cl.c.Write(t.Context(), 2, []byte{1, 2, 3})
			return cl
		}},
		{"too_big", func(t *testing.T) *client {
			cl := opened(t)
			cl.c.Write(t.Context(), 2, make([]byte, 4096+2))
			return cl
		}},
		{"position", func(t *testing.T) *client { // a position behind the audio sent
			cl := opened(t)
			cl.audio(200*time.Millisecond, callerHz, agentHz)
			cl.pos = 100 * time.Millisecond
			cl.send("ping", map[string]any{})
			return cl
		}},
	}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			cl := c.do(t)
			d := cl.expect("disconnect")
			if p := d["parameters"].(map[string]any); p["reason"] != "error" || p["info"] == "" {
				t.Fatalf("disconnect %v", d)
			}
		})
	}
	want := map[string]float64{}
	for _, c := range cases {
		want[c.reason]++
	}
	for reason, n := range want {
		waitCounter(t, tg, "mediaseal_audiohook_sessions_ended_total", reason, n)
	}
	// Genesys's connection probe (the nil conversation) is answered and
	// closed like a session, and records nothing.
	before := len(tg.Media().Sessions())
	probe, _ := newUpgrade(tg).dial(t)
	probe.send("open", openParams("00000000-0000-0000-0000-000000000000", pcmuStereo))
	probe.expect("opened")
	probe.audio(40*time.Millisecond, callerHz, agentHz)
	probe.send("ping", map[string]any{})
	probe.expect("pong")
	if n := len(tg.Media().Sessions()); n != before {
		t.Errorf("the probe opened a session (%d sessions, %d before)", n, before)
	}
	probe.send("close", map[string]any{"reason": "end"})
	probe.expect("closed")
	waitCounter(t, tg, "mediaseal_audiohook_sessions_ended_total", "close", 1)

	// A session that goes quiet is ended by the idle timeout.
	cl := opened(t)
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-cl.in:
			if ok {
				continue
			}
		case <-deadline:
			t.Fatal("idle session not closed")
		}
		break
	}
	waitCounter(t, tg, "mediaseal_audiohook_sessions_ended_total", "idle", 1)
}
