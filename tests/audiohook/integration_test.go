package audiohook

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// An integration made through the control plane's API: only a policy
// writer makes one, its client secret is answered once and stored only
// wrapped, a session signed with it is taken, a disabled one is refused,
// and refused upgrades are in the audit log.
func TestAudioHookIntegrationFromControlPlane(t *testing.T) {
	tg := gatewaytest.Start(t, nil) // no integration in the config
	pa, auditor, media := tg.Principal("policy-admin-1"), tg.Principal("auditor-1"), tg.Principal("media-service-1")
	const base = "/api/v2/audiohook/integrations"
	media.Must(403, "POST", base, map[string]any{"name": "genesys"})
	auditor.Must(403, "POST", base, map[string]any{"name": "genesys"})
	pa.Must(400, "POST", base, map[string]any{})
	created := pa.Must(201, "POST", base, map[string]any{"name": "genesys", "organizationId": orgID})
	id, key, secret := created["id"].(string), created["apiKey"].(string), fmt.Sprint(created["clientSecret"])
	if key == "" || len(secret) < 40 {
		t.Fatalf("created %v", created)
	}
	pa.Must(409, "POST", base, map[string]any{"name": "genesys"})
	list := auditor.Must(200, "GET", base, nil)
	if strings.Contains(fmt.Sprint(list), secret) || len(list["entities"].([]any)) != 1 {
		t.Fatalf("list %v (must hold one integration, without its secret)", list)
	}
	var stored string
	if err := tg.Store().DB().QueryRow(`SELECT secret FROM audiohook_integrations WHERE id = ?`, id).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored == secret || !strings.HasPrefix(stored, "kms:") {
		t.Fatalf("the database holds the client secret readable: %q", stored)
	}

	up := newUpgrade(tg)
	up.key, up.keyid, up.secret = key, key, secret
	cl, code := up.dial(t)
	if code != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade signed by the integration: %d", code)
	}
	conv := newUUID()
	cl.send("open", openParams(conv, pcmuStereo))
	cl.expect("opened")
	cl.audio(200*time.Millisecond, callerHz, agentHz)
	cl.send("close", map[string]any{"reason": "end"})
	cl.expect("closed")
	cl.c.Close(websocket.StatusNormalClosure, "")

	// Signed with another secret, or by a disabled integration: refused.
	forged := newUpgrade(tg)
	forged.key, forged.keyid, forged.secret = key, key, base64Secret("not-the-integration-secret-32by")
	if _, code := forged.dial(t); code != http.StatusUnauthorized {
		t.Fatalf("forged upgrade: %d", code)
	}
	pa.Must(200, "POST", base+"/"+id+"/disable", nil)
	again := newUpgrade(tg)
	again.key, again.keyid, again.secret = key, key, secret
	if _, code := again.dial(t); code != http.StatusUnauthorized {
		t.Fatalf("upgrade of a disabled integration: %d", code)
	}
	seen := gatewaytest.AuditSeen(auditor)
	for _, want := range []string{"audiohook.integration.created/policy-admin-1/success", "audiohook.integration.disabled/policy-admin-1/success"} {
		if !seen[want] {
			t.Errorf("audit has no %s", want)
		}
	}
	refused := false
	for k := range seen {
		if strings.HasPrefix(k, "audiohook.upgrade/") && strings.Contains(k, "refused") {
			refused = true
		}
	}
	if !refused {
		t.Errorf("no refused upgrade in the audit log: %v", seen)
	}
}
