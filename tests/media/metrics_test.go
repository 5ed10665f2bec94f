package media_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

func histCount(f *dto.MetricFamily) uint64 {
	var n uint64
	for _, m := range f.GetMetric() {
		n += m.GetHistogram().GetSampleCount()
	}
	return n
}

// TestMetricsFlushDurableAPI checks the metrics this gateway adds over the
// broker's: flush timing, first durable chunk, API requests by route
// pattern (ids never become labels) and code.
func TestMetricsFlushDurableAPI(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	s := tg.CreateCall("support", "caller")
	snd := gatewaytest.NewSender(t, s.Tracks[0].RTP, 0x1234, 440)
	snd.SendRange(0, 30, 20*time.Millisecond) // 600 ms: several 200 ms flushes
	tg.End(s)
	if code := tg.Do("GET", "/v1/sessions/"+s.SessionID, nil, nil); code != http.StatusNotFound {
		t.Fatalf("get ended session: %d", code)
	}
	if code := tg.Do("GET", "/no/such/route", nil, nil); code != http.StatusNotFound {
		t.Fatalf("unknown route: %d", code)
	}
	fams := gatewaytest.Scrape(t, tg.URL)
	for _, c := range []struct {
		route, code string
	}{
		{"POST /v1/sessions", "201"},
		{"DELETE /v1/sessions/{id}", "200"},
		{"GET /v1/sessions/{id}", "404"},
		{"unmatched", "404"},
	} {
		if v := gatewaytest.CounterWith(fams["mediaseal_api_requests_total"], map[string]string{"route": c.route, "code": c.code}); v != 1 {
			t.Errorf("api requests %s %s = %v, want 1", c.route, c.code, v)
		}
	}
	for _, m := range fams["mediaseal_api_requests_total"].GetMetric() {
		for _, lp := range m.GetLabel() {
			if strings.Contains(lp.GetValue(), s.SessionID) {
				t.Errorf("session id leaked into a label: %s", lp.GetValue())
			}
		}
	}
	for _, name := range []string{"mediaseal_flush_seconds", "mediaseal_flush_delay_seconds", "mediaseal_first_durable_seconds"} {
		f, ok := fams[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if histCount(f) == 0 {
			t.Errorf("%s has no samples", name)
		}
	}
	if n := histCount(fams["mediaseal_first_durable_seconds"]); n != 1 {
		t.Errorf("first durable samples = %d, want 1 (one session)", n)
	}
	// Every durable flush went through a spool commit.
	if c := fams["mediaseal_spool_commits_total"]; c == nil || len(c.GetMetric()) != 1 || c.GetMetric()[0].GetCounter().GetValue() < 1 {
		t.Errorf("mediaseal_spool_commits_total = %v, want at least one commit", c)
	}
}

// TestDebugListener: pprof is served on debug.addr only, never on the API.
func TestDebugListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tg := gatewaytest.Start(t, func(c *config.Config) { c.Debug.Addr = addr })
	resp, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "goroutine profile") {
		t.Fatalf("pprof on debug listener: %d %.80q", resp.StatusCode, b)
	}
	resp, err = http.Get(tg.URL + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("pprof reachable on the API port: %d", resp.StatusCode)
	}
}
