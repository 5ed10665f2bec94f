package gateway

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
	"github.com/mediaseal/mediaseal/ceremony/jobs"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/local"
	"github.com/mediaseal/mediaseal/kms/recordingkey"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/storage/seal"
)

// withLocalCustomerKey binds queue "pci" to a customer key "cust" in the
// platform keyring (registered as cust-key). A config file can no longer
// bind a key or put a queue under it (configseed.go): the store is
// prepared as the ceremony would have left it — key bound, policy created
// — and the config repeats both, as an operator's file would.
func withLocalCustomerKey(t *testing.T) func(*config.Config) {
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
		ceremonyDone(t, c, c.Keys, pci)
	}
}

// ceremonyDone writes into the gateway's store what a finished ceremony
// leaves: keys registered and bound, policies created (again: no-ops).
func ceremonyDone(t *testing.T, c *config.Config, keys []config.Key, ps ...policy.Policy) {
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

// recordCall records a short PCI call and waits until it is stored.
func (tg *testGateway) recordCall(ssrc uint32) string {
	tg.t.Helper()
	s := tg.createCall("pci", "caller")
	newSender(tg.t, s.Tracks[0].RTP, ssrc, 440+float64(ssrc)).sendRange(0, 25, 5*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	if sum := tg.end(s); sum.Status != "COMPLETE" {
		tg.t.Fatalf("summary %+v", sum)
	}
	tg.waitStored(s.RecordingID)
	return s.RecordingID
}

// reencrypt starts a job through the API and polls it to its end.
func (tg *testGateway) reencrypt(body map[string]any) api.JobJSON {
	tg.t.Helper()
	var j api.JobJSON
	if code := tg.admin("POST", "/api/v2/recordings/reencrypt", body, &j); code != http.StatusAccepted {
		tg.t.Fatalf("POST reencrypt: %d %+v", code, j)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !store.JobFinal(j.Status) {
		if time.Now().After(deadline) {
			tg.t.Fatalf("job %s still %s", j.ID, j.Status)
		}
		time.Sleep(20 * time.Millisecond)
		if code := tg.admin("GET", "/api/v2/recordings/reencrypt/"+j.ID, nil, &j); code != http.StatusOK {
			tg.t.Fatalf("GET job: %d", code)
		}
	}
	return j
}

// TestReencryptThroughAPI: rotate a customer key through the API, record
// a new call, dry-run, rewrap (zero media bytes read; every old recording
// names v2 and exports byte-identically), reseal (new DEK, identical
// export), then crypto-shred the key: no path yields plaintext.
func TestReencryptThroughAPI(t *testing.T) {
	tg := startGateway(t, withLocalCustomerKey(t))
	ctx := context.Background()
	old := []string{tg.recordCall(11), tg.recordCall(12)}
	wavs := map[string][]byte{}
	for _, id := range old {
		wavs[id], _ = tg.export(id, FormatWAV, "caller")
		if rec, _ := tg.index.GetRecording(ctx, id); rec.KeyVersion != "v1" || rec.KeyID != "cust" {
			t.Fatalf("old recording key %s %s", rec.KeyID, rec.KeyVersion)
		}
	}
	if _, err := tg.index.GetKey(ctx, "cust-key"); err != nil { // registered and bound by withLocalCustomerKey
		t.Fatal(err)
	}
	var rot jobs.Rotation
	if code := tg.admin("POST", "/api/v2/keys/cust-key/rotate", nil, &rot); code != http.StatusOK || rot.Version != "v2" {
		t.Fatalf("rotate: %d %+v", code, rot)
	}
	fresh := tg.recordCall(13)
	wavs[fresh], _ = tg.export(fresh, FormatWAV, "caller")
	if rec, _ := tg.index.GetRecording(ctx, fresh); rec.KeyVersion != "v2" {
		t.Fatalf("new call under %s", rec.KeyVersion)
	}

	dry := tg.reencrypt(map[string]any{"policyIds": []string{"pci"}, "targetKeyVersion": "v2", "dryRun": true})
	if dry.Status != store.JobCompleted || dry.Processed != 3 || dry.Changed != 2 || dry.SkippedBy[jobs.SkipAtTarget] != 1 {
		t.Fatalf("dry run %+v", dry)
	}
	rw := tg.reencrypt(map[string]any{"policyIds": []string{"pci"}, "targetKeyVersion": "v2", "dryRun": false, "mode": "rewrap"})
	if rw.Status != store.JobCompleted || rw.Changed != 2 || rw.MediaBytesRead != 0 || rw.Errors != 0 {
		t.Fatalf("rewrap %+v", rw)
	}
	envelopes := map[string][]byte{}
	for _, id := range append(old, fresh) {
		rec, _ := tg.index.GetRecording(ctx, id)
		if rec.KeyVersion != "v2" {
			t.Fatalf("%s at %s after rewrap", id, rec.KeyVersion)
		}
		envelopes[id] = rec.WrappedDEK
		if got, _ := tg.export(id, FormatWAV, "caller"); !bytes.Equal(got, wavs[id]) {
			t.Fatalf("%s exports differently after rewrap", id)
		}
	}

	rs := tg.reencrypt(map[string]any{"policyIds": []string{"pci"}, "mode": "reseal"})
	if rs.Status != store.JobCompleted || rs.Changed != 3 || rs.Errors != 0 {
		t.Fatalf("reseal %+v", rs)
	}
	for _, id := range append(old, fresh) {
		rec, err := tg.OpenRecording(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		env := rec.Header().Envelope
		rec.Close()
		if bytes.Equal(env.WrappedDEK, envelopes[id]) || !bytes.Equal(rec.Index.WrappedDEK, env.WrappedDEK) || env.Key.KeyVersion != "v2" {
			t.Fatalf("%s: no new DEK after reseal", id)
		}
		if got, _ := tg.export(id, FormatWAV, "caller"); !bytes.Equal(got, wavs[id]) {
			t.Fatalf("%s exports differently after reseal", id)
		}
	}

	// Crypto-shred.
	n, err := tg.ShredKey(ctx, "cust-key", "ceremony")
	if err != nil || n != 3 {
		t.Fatalf("shred: %d %v", n, err)
	}
	checkShreddedEverywhere(t, tg, append(old, fresh))
}

// checkShreddedEverywhere tries every path to plaintext of ids: the
// gateway (as the API's playback and the CLI use it), a second offline
// gateway on the same data (the CLI's openOffline), and the raw objects
// with every key left in the keyring, through the index and header
// envelopes.
func checkShreddedEverywhere(t *testing.T, tg *testGateway, ids []string) {
	ctx := context.Background()
	offline, err := New(ctx, tg.cfg, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer offline.Close()
	kr, err := local.Open(tg.cfg.KeyringDir(), tg.cfg.Org.Region)
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(tg.cfg.KeyringDir())
	for _, id := range ids {
		for name, g := range map[string]*Gateway{"running": tg.Gateway, "offline": offline} {
			if _, err := g.Export(ctx, id, FormatWAV, "", &bytes.Buffer{}); !errors.Is(err, ErrRecordingShredded) {
				t.Fatalf("%s gateway export of %s: %v", name, id, err)
			}
		}
		var rj map[string]any
		if code := tg.admin("GET", "/api/v2/recordings/"+id, nil, &rj); code != http.StatusOK || rj["status"] != store.RecordingShredded {
			t.Fatalf("index says %v", rj["status"])
		}
		rec, _ := tg.index.GetRecording(ctx, id)
		f, err := os.Open(filepath.Join(tg.cfg.RecordingsDir(), rec.ObjectKey))
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
	if _, err := os.Stat(filepath.Join(tg.cfg.KeyringDir(), "cust")); !os.IsNotExist(err) {
		t.Fatalf("KEK files of the shredded key remain: %v", err)
	}
}
