package events_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// The subscriptions API on a running gateway: who may do what (and what
// an attacker holding another role, or no token, gets), the secret shown
// only on create and rotation, https only, and every change audited.
func TestSubscriptionsAPIScopesAndAudit(t *testing.T) {
	tg := gatewaytest.Start(t, nil)
	pa, auditor := tg.Principal("policy-admin-1"), tg.Principal("auditor-1")
	ka, media := tg.Principal("key-admin-1"), tg.Principal("media-service-1")
	const base = "/api/v2/events/subscriptions"
	body := map[string]any{"url": "https://crm.example/hooks", "types": []string{"recording.finished"}, "seeCaller": false}

	// Refused: no token, the wrong roles, bad bodies.
	if st, _, _ := gatewaytest.RawCall(t, "POST", tg.URL+base, "", body); st != 401 {
		t.Errorf("no token: %d, want 401", st)
	}
	ka.Must(403, "POST", base, body)      // the key holder cannot open a channel out
	auditor.Must(403, "POST", base, body) // reads only
	media.Must(403, "GET", base, nil)
	pa.Must(400, "POST", base, map[string]any{"url": "http://crm.example/hooks", "types": []string{"*"}})
	pa.Must(400, "POST", base, map[string]any{"url": "https://u:p@crm.example/", "types": []string{"*"}})
	pa.Must(400, "POST", base, map[string]any{"url": "https://crm.example/", "types": []string{"recording.*"}})
	pa.Must(400, "POST", base, map[string]any{"url": "https://crm.example/", "types": []string{"*"}, "secret": "whsec_mine"})
	pa.Must(400, "POST", base, []byte(`{"url":`))

	created := pa.Must(201, "POST", base, body)
	id, _ := created["id"].(string)
	secret, _ := created["secret"].(string)
	if id == "" || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("create answered %v", created)
	}
	// The database holds the secret wrapped under the platform key, bound
	// to its subscription: its holder can neither read it nor move it.
	var stored string
	if err := tg.Store().DB().QueryRow(`SELECT secret FROM event_subscriptions WHERE id = ?`, id).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored == secret || strings.Contains(stored, strings.TrimPrefix(secret, "whsec_")) || !strings.HasPrefix(stored, "kms:") {
		t.Fatalf("the database holds the secret readable: %q", stored)
	}
	got := auditor.Must(200, "GET", base+"/"+id, nil)
	if _, ok := got["secret"]; ok {
		t.Errorf("a read returned the secret: %v", got)
	}
	list := auditor.Must(200, "GET", base, nil)
	if n := len(list["entities"].([]any)); n != 1 {
		t.Errorf("list has %d subscriptions", n)
	}
	if strings.Contains(fmt.Sprint(list), secret) {
		t.Error("the list carries the secret")
	}
	pa.Must(200, "PUT", base+"/"+id, map[string]any{"url": "https://crm.example/v2", "types": []string{"*"}, "seeCaller": true, "state": "PAUSED"})
	rot := pa.Must(200, "POST", base+"/"+id+"/rotate", nil)
	if s, _ := rot["secret"].(string); s == secret || !strings.HasPrefix(s, "whsec_") || rot["rotating"] != true {
		t.Errorf("rotate answered %v", rot)
	}
	pa.Must(200, "POST", base+"/"+id+"/rotate/end", nil)
	if dl := auditor.Must(200, "GET", base+"/"+id+"/deadletters", nil); len(dl["entities"].([]any)) != 0 {
		t.Errorf("dead letters: %v", dl)
	}
	pa.Must(400, "POST", base+"/"+id+"/replay", map[string]any{"from": "2026-12-05T00:00:00Z"})
	pa.Must(202, "POST", base+"/"+id+"/replay", map[string]any{"from": "2026-12-05T00:00:00Z", "to": "2026-12-06T00:00:00Z"})
	auditor.Must(403, "POST", base+"/"+id+"/replay", map[string]any{"from": "2026-12-05T00:00:00Z", "to": "2026-12-06T00:00:00Z"})
	pa.Must(404, "GET", base+"/no-such-id", nil)
	pa.Must(204, "DELETE", base+"/"+id, nil)
	pa.Must(404, "DELETE", base+"/"+id, nil)

	seen := map[string]bool{}
	after := "0"
	for {
		m := auditor.Must(200, "GET", "/api/v2/audit/events?limit=50&after="+after, nil)
		for _, e := range m["entities"].([]any) {
			e := e.(map[string]any)
			seen[fmt.Sprint(e["action"], "/", e["actor"])] = true
			if strings.Contains(fmt.Sprint(e), secret) {
				t.Errorf("audit entry carries the secret: %v", e)
			}
		}
		if m["nextAfter"] == nil {
			break
		}
		after = fmt.Sprint(m["nextAfter"])
	}
	for _, want := range []string{"event.subscription.created", "event.subscription.changed", "event.subscription.secret.rotated",
		"event.subscription.rotation.ended", "events.replayed", "event.subscription.deleted"} {
		if !seen[want+"/policy-admin-1"] {
			t.Errorf("audit log lacks %s by policy-admin-1", want)
		}
	}
}
