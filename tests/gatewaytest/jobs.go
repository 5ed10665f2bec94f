package gatewaytest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/gateway"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/kms/recordingkey"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// WithLocalCustomerKey binds queue "pci" to a customer key "cust" in the
// platform keyring (registered as cust-key). A config file can no longer
// bind a key or put a queue under it (ceremony/controlplane/configseed.go): the store is
// prepared as the ceremony would have left it — key bound, policy created
// — and the config repeats both, as an operator's file would.
func WithLocalCustomerKey(t *testing.T) func(*config.Config) {
	return func(c *config.Config) {
		kr, err := local.Open(c.KeyringDir(), c.Org.Region)
		if err != nil {
			t.Fatal(err)
		}
		if err := kr.EnsureKey("cust"); err != nil {
			t.Fatal(err)
		}
		c.Keys = []config.Key{{ID: "cust-key", Name: "CustomerKey", ProviderType: policy.ProviderPlatform, ProviderKeyID: "cust", Region: c.Org.Region}}
		pci := policy.Policy{ID: "pci", Name: "PCI", RecordingType: policy.RecordingAudio,
			EncryptionKeyReference: &policy.KeyReference{KeyID: "cust-key", ProviderType: policy.ProviderPlatform},
			TargetIDs:              []string{"pci"}}
		pci.Normalize()
		c.Policies = append(c.Policies, pci)
		CeremonyDone(t, c, c.Keys, pci)
	}
}

// CeremonyDone writes into the gateway's store what a finished ceremony
// leaves: keys registered and bound, policies created (again: no-ops).
func CeremonyDone(t *testing.T, c *config.Config, keys []config.Key, ps ...policy.Policy) {
	t.Helper()
	ctx := context.Background()
	scfg := store.Config{SQLitePath: c.SQLitePath()}
	if c.Store.Driver == "postgres" {
		scfg = store.Config{PostgresDSN: c.Store.DSN}
	}
	st, err := store.Open(ctx, scfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, k := range keys {
		if _, err := st.CreateKey(ctx, store.Key{ID: k.ID, Name: k.Name, KeyType: k.ProviderType, Region: k.Region, Ref: k.ProviderKeyID,
			State: string(kms.StateEnabled)}); err != nil && !errors.Is(err, store.ErrDuplicate) {
			t.Fatal(err)
		}
		if _, err := st.UpdateKeyBinding(ctx, k.ID, store.Binding{Status: store.BindingBound, KMSState: "ENABLED", KMSRegion: k.Region}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range ps {
		if _, err := st.CreatePolicy(ctx, p); err != nil && !errors.Is(err, store.ErrDuplicate) {
			t.Fatal(err)
		}
	}
}

// RecordCall records a short PCI call and waits until it is stored.
func (tg *Gateway) RecordCall(ssrc uint32) string {
	tg.T.Helper()
	s := tg.CreateCall("pci", "caller")
	NewSender(tg.T, s.Tracks[0].RTP, ssrc, 440+float64(ssrc)).SendRange(0, 25, 5*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	if sum := tg.End(s); sum.Status != "COMPLETE" {
		tg.T.Fatalf("summary %+v", sum)
	}
	tg.WaitStored(s.RecordingID)
	return s.RecordingID
}

// Reencrypt starts a job through the API and polls it to its end.
func (tg *Gateway) Reencrypt(body map[string]any) api.JobJSON {
	tg.T.Helper()
	var j api.JobJSON
	if code := tg.Admin("POST", "/api/v2/recordings/reencrypt", body, &j); code != http.StatusAccepted {
		tg.T.Fatalf("POST reencrypt: %d %+v", code, j)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !store.JobFinal(j.Status) {
		if time.Now().After(deadline) {
			tg.T.Fatalf("job %s still %s", j.ID, j.Status)
		}
		time.Sleep(20 * time.Millisecond)
		if code := tg.Admin("GET", "/api/v2/recordings/reencrypt/"+j.ID, nil, &j); code != http.StatusOK {
			tg.T.Fatalf("GET job: %d", code)
		}
	}
	return j
}

// CheckShreddedEverywhere tries every path to plaintext of ids: the
// gateway (as the API's playback and the CLI use it), a second offline
// gateway on the same data (the CLI's openOffline), and the raw objects
// with every key left in the keyring, through the index and header
// envelopes.
func CheckShreddedEverywhere(t *testing.T, tg *Gateway, ids []string) {
	ctx := context.Background()
	offline, err := gateway.New(ctx, tg.Config(), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer offline.Close()
	kr, err := local.Open(tg.Config().KeyringDir(), tg.Config().Org.Region)
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(tg.Config().KeyringDir())
	for _, id := range ids {
		for name, g := range map[string]*gateway.Gateway{"running": tg.Gateway, "offline": offline} {
			if _, err := g.Playback().Export(ctx, id, playback.FormatWAV, "", playback.Options{}, &bytes.Buffer{}); !errors.Is(err, api.ErrRecordingShredded) {
				t.Fatalf("%s gateway export of %s: %v", name, id, err)
			}
		}
		var rj map[string]any
		if code := tg.Admin("GET", "/api/v2/recordings/"+id, nil, &rj); code != http.StatusOK || rj["status"] != store.RecordingShredded {
			t.Fatalf("index says %v", rj["status"])
		}
		rec, _ := tg.Store().GetRecording(ctx, id)
		f, err := os.Open(filepath.Join(tg.Config().RecordingsDir(), rec.ObjectKey))
		if err != nil {
			t.Fatal(err)
		}
		h, err := seal.ParseHeader(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		// The context the DEK is really wrapped under (a pooled DEK's is
		// not the legacy one): a shredded key must not unwrap under it.
		ec, err := recordingkey.UnwrapContext(h, recordingkey.Recording{ID: id, OrgID: h.Context.OrgID, PolicyID: h.Context.PolicyID})
		if err != nil {
			t.Fatal(err)
		}
		for _, wrapped := range [][]byte{h.Envelope.WrappedDEK, rec.WrappedDEK} {
			for _, e := range ents {
				if dek, err := kr.Unwrap(ctx, kms.KeyRef{Provider: local.ProviderName, KeyID: e.Name()}, wrapped, ec); err == nil {
					clear(dek)
					t.Fatalf("key %s still unwraps %s", e.Name(), id)
				}
			}
			if _, err := kr.Unwrap(ctx, kms.KeyRef{Provider: local.ProviderName, KeyID: "cust"}, wrapped, ec); err == nil {
				t.Fatalf("shredded key still unwraps %s", id)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(tg.Config().KeyringDir(), "cust")); !os.IsNotExist(err) {
		t.Fatalf("KEK files of the shredded key remain: %v", err)
	}
}
