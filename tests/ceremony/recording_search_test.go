package ceremony_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestRecordingSearchSQLite and TestRecordingSearchPostgres search the
// recordings index by call id, agent and caller through the running
// gateway's API, on each store dialect.
func TestRecordingSearchSQLite(t *testing.T) {
	recordingSearch(t, gatewaytest.Start(t, func(c *config.Config) { c.Org.CallerRegion = "GB" }))
}

func TestRecordingSearchPostgres(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	recordingSearch(t, gatewaytest.Start(t, func(c *config.Config) {
		c.Org.CallerRegion = "GB"
		c.Store = config.Store{Driver: "postgres", DSN: dsn}
	}))
}

// call opens and ends a recorded session with the given call fields.
func call(t *testing.T, tg *gatewaytest.Gateway, callID, queue, caller, agent string) string {
	t.Helper()
	var s gatewaytest.Session
	code := tg.Do("POST", "/v1/sessions", map[string]any{"callId": callID, "queueId": queue, "direction": "INBOUND",
		"callerId": caller, "agentId": agent, "tracks": []map[string]string{{"label": "caller", "kind": "audio", "source": "127.0.0.1"}}}, &s)
	if code != http.StatusCreated || !s.Recorded {
		t.Fatalf("create session %s: %d %+v", callID, code, s)
	}
	tg.End(s)
	return s.RecordingID
}

func recordingSearch(t *testing.T, tg *gatewaytest.Gateway) {
	run := fmt.Sprint(time.Now().UnixNano()) // call ids unique to this run (PostgreSQL may be shared)
	ids := map[string]string{}
	// Three calls by one agent, the same caller written three ways.
	for i, caller := range []string{"+44 1632 960001", "01632 960001", "tel:+441632960001"} {
		cid := fmt.Sprintf("c%d-%s", i, run)
		ids[cid] = call(t, tg, cid, "sales", caller, "agent-"+run)
	}
	other := call(t, tg, "other-"+run, "support", "+1 202 555 0143", "agent-x-"+run)

	auditor := tg.Principal("auditor-1")
	search := func(q url.Values) map[string]any {
		t.Helper()
		return auditor.Must(200, "GET", "/api/v2/recordings?"+q.Encode(), nil)
	}
	idsOf := func(m map[string]any) []string {
		var out []string
		for _, e := range m["entities"].([]any) {
			out = append(out, e.(map[string]any)["id"].(string))
		}
		return out
	}
	// The index is written off the media path: wait for the last row.
	deadline := time.Now().Add(20 * time.Second)
	for len(idsOf(search(url.Values{"callId": {"other-" + run}}))) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("recording never indexed")
		}
		time.Sleep(50 * time.Millisecond)
	}

	got := search(url.Values{"callId": {"c1-" + run}})
	if l := idsOf(got); len(l) != 1 || l[0] != ids["c1-"+run] {
		t.Fatalf("by call id: %v", l)
	}
	e := got["entities"].([]any)[0].(map[string]any)
	if e["caller"] != "+441632960001" || e["agentId"] != "agent-"+run {
		t.Fatalf("indexed call fields: %v", e)
	}
	// Caller in any spelling the region reads finds all three; the other
	// caller is not among them.
	for _, q := range []string{"+441632960001", "01632 960001", "+44 (0)1632 960001", "tel:+44-1632-960001"} {
		l := idsOf(search(url.Values{"caller": {q}, "agentId": {"agent-" + run}}))
		if len(l) != 3 {
			t.Fatalf("caller %q: %v", q, l)
		}
	}
	if l := idsOf(search(url.Values{"caller": {"(202) 555-0143"}, "agentId": {"agent-x-" + run}})); len(l) != 0 {
		t.Fatalf("a US national number read as GB matched: %v", l)
	}
	if l := idsOf(search(url.Values{"caller": {"+12025550143"}, "agentId": {"agent-x-" + run}})); len(l) != 1 || l[0] != other {
		t.Fatalf("by caller +1: %v", l)
	}
	if l := idsOf(search(url.Values{"agentId": {"agent-" + run}, "queueId": {"support"}})); len(l) != 0 {
		t.Fatalf("agent and another queue: %v", l)
	}

	// Cursor pagination: pages of one, stable order, every row once.
	q := url.Values{"agentId": {"agent-" + run}, "status": {"COMPLETE"}, "limit": {"1"}}
	var seen []string
	var cursor string
	for page := 0; page < 5; page++ {
		p := url.Values{}
		for k, v := range q {
			p[k] = v
		}
		if cursor != "" {
			p.Set("cursor", cursor)
		}
		m := search(p)
		seen = append(seen, idsOf(m)...)
		c, _ := m["nextCursor"].(string)
		if c == "" {
			break
		}
		cursor = c
	}
	if len(seen) != 3 || seen[0] == seen[1] || seen[1] == seen[2] || seen[0] == seen[2] {
		t.Fatalf("pages: %v", seen)
	}
	for id := range ids {
		if !strings.Contains(strings.Join(seen, " "), ids[id]) {
			t.Fatalf("pages miss %s: %v", ids[id], seen)
		}
	}

	searchByCLI(t, tg, auditor, run, ids)

	// What an attacker tries with a cursor: forged, truncated, reused
	// under another filter, oversize. Each a 400 naming the cursor.
	first := search(q)["nextCursor"].(string)
	for name, p := range map[string]url.Values{
		"garbage":      {"agentId": q["agentId"], "status": q["status"], "cursor": {"not-a-cursor!"}},
		"truncated":    {"agentId": q["agentId"], "status": q["status"], "cursor": {first[:len(first)-4]}},
		"other filter": {"agentId": {"agent-x-" + run}, "status": q["status"], "cursor": {first}},
		"oversize":     {"agentId": q["agentId"], "cursor": {strings.Repeat("A", 600)}},
		"with after":   {"agentId": q["agentId"], "status": q["status"], "cursor": {first}, "after": {"x"}},
	} {
		code, body, m := auditor.Call("GET", "/api/v2/recordings?"+p.Encode(), nil)
		if code != http.StatusBadRequest || m["field"] != "cursor" {
			t.Errorf("%s cursor: %d %s", name, code, body)
		}
	}
	// Scopes as for listing: a principal without recording:read is refused.
	media := tg.Principal("media-service-1")
	if code, body, _ := media.Call("GET", "/api/v2/recordings?callId=c1-"+run, nil); code != http.StatusForbidden {
		t.Fatalf("media service searched recordings: %d %s", code, body)
	}
	// A blank caller is refused rather than read as no filter.
	if code, _, m := auditor.Call("GET", "/api/v2/recordings?caller=%20%20", nil); code != 400 || m["field"] != "caller" {
		t.Fatalf("blank caller: %d %v", code, m)
	}
	// Oversized search fields are refused, not run.
	if code, _, m := auditor.Call("GET", "/api/v2/recordings?caller="+strings.Repeat("9", 300), nil); code != 400 || m["field"] != "caller" {
		t.Fatalf("oversize caller: %d %v", code, m)
	}
}

// searchByCLI runs `mediaseal recordings search` as an operator would:
// the flags reach the API as its query, a small --limit follows the
// cursor across pages, and the table names each recording.
func searchByCLI(t *testing.T, tg *gatewaytest.Gateway, auditor *gatewaytest.Principal, run string, ids map[string]string) {
	t.Helper()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(auditor.Token), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) string {
		t.Helper()
		args = append([]string{"recordings", "--api", tg.URL, "--token-file", tokenFile}, args...)
		out, err := exec.Command(gatewaytest.MediasealBinary(t), args...).CombinedOutput()
		if err != nil {
			t.Fatalf("mediaseal %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	var got struct {
		Entities []struct {
			ID     string `json:"id"`
			Caller string `json:"caller"`
		} `json:"entities"`
	}
	// Pages of one until three: the cursor is followed.
	if err := json.Unmarshal([]byte(cli("search", "-o", "json", "--caller", "01632 960001", "--agent-id", "agent-"+run,
		"--status", "COMPLETE", "--page-size", "1", "--limit", "10")), &got); err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, e := range got.Entities {
		if e.Caller != "+441632960001" {
			t.Fatalf("cli caller: %+v", e)
		}
		found = append(found, e.ID)
	}
	want := slices.Sorted(maps.Values(ids))
	slices.Sort(found)
	if !slices.Equal(found, want) {
		t.Fatalf("cli search: %v, want %v", found, want)
	}
	if err := json.Unmarshal([]byte(cli("search", "-o", "json", "--agent-id", "agent-"+run, "--page-size", "1", "--limit", "2")), &got); err != nil || len(got.Entities) != 2 {
		t.Fatalf("--limit 2: %v %+v", err, got)
	}
	table := cli("search", "--call-id", "c1-"+run)
	if !strings.Contains(table, ids["c1-"+run]) || !strings.Contains(table, "+441632960001") || strings.Contains(table, ids["c0-"+run]) {
		t.Fatalf("cli table:\n%s", table)
	}
}
