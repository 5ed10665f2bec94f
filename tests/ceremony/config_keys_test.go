package ceremony_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// custKeyConfig names key "cust" of the keyring as config key cust-key
// (labelled PLATFORM, as an attacker would label it) and policy pci
// putting queue "pci" under it.
func custKeyConfig(t *testing.T, c *config.Config) (config.Key, policy.Policy) {
	t.Helper()
	kr, err := local.Open(c.KeyringDir(), c.Org.Region)
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.EnsureKey("cust"); err != nil {
		t.Fatal(err)
	}
	k := config.Key{ID: "cust-key", Name: "CustomerKey", ProviderType: policy.ProviderPlatform, ProviderKeyID: "cust", Region: c.Org.Region}
	p := policy.Policy{ID: "pci", Name: "PCI", RecordingType: policy.RecordingAudio,
		EncryptionKeyReference: &policy.KeyReference{KeyID: k.ID, ProviderType: policy.ProviderPlatform}, TargetIDs: []string{"pci"}}
	p.Normalize()
	c.Keys = append(c.Keys, k)
	return k, p
}

// recordedUnder records a short call on queue and returns the policy that
// took it and the provider key its recording is sealed under.
func recordedUnder(t *testing.T, tg *gatewaytest.Gateway, queue string) (string, string) {
	t.Helper()
	s := tg.CreateCall(queue, "caller")
	gatewaytest.NewSender(t, s.Tracks[0].RTP, 9, 440).SendRange(0, 10, 5*time.Millisecond)
	tg.End(s)
	rec, err := tg.Store().GetRecording(context.Background(), s.RecordingID)
	if err != nil {
		t.Fatal(err)
	}
	return s.PolicyID, rec.KeyProvider + ":" + rec.KeyID
}

// TestConfigKeysSkipNoQuorum: keys and policies in a config file go
// through the registry and the quorum like the API's. A config key is
// registered UNBOUND and a config policy putting a queue under it is not
// created (the queue stays on the platform key); once the ceremony bound
// the key and created the policy, a config file can neither re-point the
// key, nor replace the policy, nor add a platform policy that takes the
// queue off the customer key.
func TestConfigKeysSkipNoQuorum(t *testing.T) {
	t.Run("unbound config key", func(t *testing.T) {
		tg := gatewaytest.Start(t, func(c *config.Config) {
			_, p := custKeyConfig(t, c)
			c.Policies = append(c.Policies, p)
		})
		auditor := tg.Principal("auditor-1")
		k := auditor.Must(200, "GET", "/api/v2/keys/cust-key", nil)
		if b := k["binding"].(map[string]any); b["status"] != "UNBOUND" {
			t.Fatalf("config key binding %v", b)
		}
		auditor.Must(404, "GET", "/api/v2/recordings/policies/pci", nil)
		if pol, key := recordedUnder(t, tg, "pci"); pol != "default-record-all" || key != "local:platform" {
			t.Fatalf("queue pci recorded by policy %s under %s", pol, key)
		}
		seen := gatewaytest.AuditSeen(auditor)
		for _, w := range []string{"key.registered/system/success", "policy.config_refused/system/refused"} {
			if !seen[w] {
				t.Errorf("audit log lacks %s", w)
			}
		}
	})
	t.Run("after the ceremony", func(t *testing.T) {
		tg := gatewaytest.Start(t, func(c *config.Config) {
			k, p := custKeyConfig(t, c)
			gatewaytest.CeremonyDone(t, c, []config.Key{k}, p)
			// The file's own pci (platform key) and a narrower platform policy for queue pci.
			mine := p
			mine.EncryptionKeyReference = &policy.KeyReference{KeyID: "platform", ProviderType: policy.ProviderPlatform}
			divert := mine
			divert.ID, divert.Conditions.Direction = "pci-inbound", "INBOUND"
			c.Policies = append(c.Policies, mine, divert)
		})
		if pol, key := recordedUnder(t, tg, "pci"); pol != "pci" || key != "local:cust" {
			t.Fatalf("queue pci recorded by policy %s under %s", pol, key)
		}
		tg.Principal("auditor-1").Must(404, "GET", "/api/v2/recordings/policies/pci-inbound", nil)
		if !gatewaytest.AuditSeen(tg.Principal("auditor-1"))["policy.config_refused/system/refused"] {
			t.Error("refused config policies not audited")
		}
	})
	t.Run("re-pointed key", func(t *testing.T) {
		_, err := tryStartGateway(t, func(c *config.Config) {
			k, p := custKeyConfig(t, c)
			gatewaytest.CeremonyDone(t, c, []config.Key{k}, p)
			c.Keys[len(c.Keys)-1].ProviderKeyID = "other"
		})
		if err == nil || !strings.Contains(err.Error(), "cannot re-point a registered key") {
			t.Fatalf("start with a re-pointed config key: %v", err)
		}
	})
}
