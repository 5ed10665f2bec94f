package gatewaytest

import (
	"fmt"
	"io"
	"net/http"

	"github.com/mediaseal/mediaseal/ceremony/api"
)

// Approved returns a proposal of ka1 approved by ka2.
func Approved(ka1, ka2 *Principal, op, target string) string {
	id, digest := ka1.Propose(op, target, nil, "test "+op)
	ka2.Must(200, "POST", "/api/v2/approvals/"+id+"/approve", map[string]any{"digest": digest})
	return id
}

// AuditSeen lists every audit event as "action/actor/outcome" (and with
// "/reason" when the details carry one), read through the API.
func AuditSeen(auditor *Principal) map[string]bool {
	seen := map[string]bool{}
	after := "0"
	for {
		m := auditor.Must(200, "GET", "/api/v2/audit/events?limit=100&after="+after, nil)
		for _, e := range m["entities"].([]any) {
			ev := e.(map[string]any)
			k := fmt.Sprint(ev["action"], "/", ev["actor"], "/", ev["outcome"])
			seen[k] = true
			if d, ok := ev["details"].(map[string]any); ok && d["reason"] != nil {
				seen[fmt.Sprint(k, "/", d["reason"])] = true
			}
		}
		if m["nextAfter"] == nil {
			return seen
		}
		after = fmt.Sprint(m["nextAfter"])
	}
}

// PlaybackApproved gets recording id approved for playback (requester
// proposes, two key admins approve) and returns the approval id.
func PlaybackApproved(tg *Gateway, id string) string {
	requester := tg.Principal("playback-requester-1")
	pid, digest := requester.Propose("recording.playback", id, nil, "dispute")
	for _, a := range []string{"key-admin-1", "key-admin-2"} {
		tg.Principal(a).Must(200, "POST", "/api/v2/approvals/"+pid+"/approve", map[string]any{"digest": digest})
	}
	return pid
}

// Playback plays recording id back as format through the API under a
// fresh approval and returns the Content-Type and the body.
func Playback(tg *Gateway, id, format string) (string, []byte) {
	tg.T.Helper()
	pid := PlaybackApproved(tg, id)
	req, _ := http.NewRequest("GET", tg.URL+"/api/v2/recordings/"+id+"/media?format="+format, nil)
	req.Header.Set("Authorization", "Bearer "+tg.Principal("playback-requester-1").Token)
	req.Header.Set(api.HeaderApproval, pid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tg.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		tg.T.Fatalf("playback %s as %s: %d %s", id, format, resp.StatusCode, b)
	}
	return resp.Header.Get("Content-Type"), b
}
