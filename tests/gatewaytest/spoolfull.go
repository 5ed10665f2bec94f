package gatewaytest

import (
	"encoding/json"
	"net/http"
	"time"
)

// Readyz returns the status and the spool check of /readyz.
func (tg *Gateway) Readyz() (int, string) {
	tg.T.Helper()
	resp, err := http.Get(tg.URL + "/readyz")
	if err != nil {
		tg.T.Fatal(err)
	}
	defer resp.Body.Close()
	var checks map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&checks)
	return resp.StatusCode, checks["spool"]
}

// WaitReadyz polls /readyz until it answers code (the spool is probed
// every second) and returns the spool check; within a bound.
func (tg *Gateway) WaitReadyz(code int, within time.Duration) string {
	tg.T.Helper()
	deadline := time.Now().Add(within)
	for {
		got, spool := tg.Readyz()
		if got == code {
			return spool
		}
		if time.Now().After(deadline) {
			tg.T.Errorf("/readyz: %d (spool %q), want %d", got, spool, code)
			return spool
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TryCreate asks for a recorded one-track session and returns the status.
func (tg *Gateway) TryCreate() (int, Session) {
	var s Session
	code := tg.Do("POST", "/v1/sessions", map[string]any{"callId": "call-full", "queueId": "sales", "direction": "INBOUND",
		"callerId": "+441234", "agentId": "agent-7",
		"tracks": []map[string]string{{"label": "caller", "kind": "audio", "source": "127.0.0.1"}}}, &s)
	return code, s
}
