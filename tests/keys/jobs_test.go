package keys_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/jobs"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestReencryptThroughAPI: rotate a customer key through the API, record
// a new call, dry-run, rewrap (zero media bytes read; every old recording
// names v2 and exports byte-identically), reseal (new DEK, identical
// export), then crypto-shred the key: no path yields plaintext.
func TestReencryptThroughAPI(t *testing.T) {
	tg := gatewaytest.Start(t, gatewaytest.WithLocalCustomerKey(t))
	ctx := context.Background()
	old := []string{tg.RecordCall(11), tg.RecordCall(12)}
	wavs := map[string][]byte{}
	for _, id := range old {
		wavs[id], _ = tg.ExportTrack(id, playback.FormatWAV, "caller")
		if rec, _ := tg.Store().GetRecording(ctx, id); rec.KeyVersion != "v1" || rec.KeyID != "cust" {
			t.Fatalf("old recording key %s %s", rec.KeyID, rec.KeyVersion)
		}
	}
	if _, err := tg.Store().GetKey(ctx, "cust-key"); err != nil { // registered and bound by withLocalCustomerKey
		t.Fatal(err)
	}
	var rot jobs.Rotation
	if code := tg.Admin("POST", "/api/v2/keys/cust-key/rotate", nil, &rot); code != http.StatusOK || rot.Version != "v2" {
		t.Fatalf("rotate: %d %+v", code, rot)
	}
	fresh := tg.RecordCall(13)
	wavs[fresh], _ = tg.ExportTrack(fresh, playback.FormatWAV, "caller")
	if rec, _ := tg.Store().GetRecording(ctx, fresh); rec.KeyVersion != "v2" {
		t.Fatalf("new call under %s", rec.KeyVersion)
	}

	dry := tg.Reencrypt(map[string]any{"policyIds": []string{"pci"}, "targetKeyVersion": "v2", "dryRun": true})
	if dry.Status != store.JobCompleted || dry.Processed != 3 || dry.Changed != 2 || dry.SkippedBy[jobs.SkipAtTarget] != 1 {
		t.Fatalf("dry run %+v", dry)
	}
	rw := tg.Reencrypt(map[string]any{"policyIds": []string{"pci"}, "targetKeyVersion": "v2", "dryRun": false, "mode": "rewrap"})
	if rw.Status != store.JobCompleted || rw.Changed != 2 || rw.MediaBytesRead != 0 || rw.Errors != 0 {
		t.Fatalf("rewrap %+v", rw)
	}
	envelopes := map[string][]byte{}
	for _, id := range append(old, fresh) {
		rec, _ := tg.Store().GetRecording(ctx, id)
		if rec.KeyVersion != "v2" {
			t.Fatalf("%s at %s after rewrap", id, rec.KeyVersion)
		}
		envelopes[id] = rec.WrappedDEK
		if got, _ := tg.ExportTrack(id, playback.FormatWAV, "caller"); !bytes.Equal(got, wavs[id]) {
			t.Fatalf("%s exports differently after rewrap", id)
		}
	}

	rs := tg.Reencrypt(map[string]any{"policyIds": []string{"pci"}, "mode": "reseal"})
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
		if got, _ := tg.ExportTrack(id, playback.FormatWAV, "caller"); !bytes.Equal(got, wavs[id]) {
			t.Fatalf("%s exports differently after reseal", id)
		}
	}

	// Crypto-shred.
	n, err := tg.ShredKey(ctx, "cust-key", "ceremony")
	if err != nil || n != 3 {
		t.Fatalf("shred: %d %v", n, err)
	}
	gatewaytest.CheckShreddedEverywhere(t, tg, append(old, fresh))
}
