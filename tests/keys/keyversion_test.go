package keys_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/kms/awskms"
	"github.com/mediaseal/mediaseal/playback"
	"github.com/mediaseal/mediaseal/policy"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// configKMSKey is the registry id of the customer key withLocalKMS binds.
const configKMSKey = "cmk-recording-key-01"

// startConfigKMSGateway runs a gateway whose AWS KMS provider (local-kms)
// is built from its config, as a deployment's is, not injected by the
// test; queue "pci" records under configKMSKey.
func startConfigKMSGateway(t *testing.T) (*gatewaytest.Gateway, *testenv.LocalKMS) {
	lk := gatewaytest.StartLocalKMS(t)
	edit, _ := withLocalKMS(t, lk, policy.OnKeyUnavailablePlatformKey, 5*time.Second)
	return gatewaytest.Start(t, func(c *config.Config) {
		edit(c)
		c.KMS.AWS.CiphertextFormat = awskms.CiphertextFormatLocalKMS
	}), lk
}

// TestCustomerKeyVersionsFromConfig runs a gateway whose AWS KMS provider
// is built from its config (kms.aws.ciphertextFormat "local-kms"), as a
// deployment's is, not injected by the test: customer-key recordings are
// indexed with their key version, GET /api/v2/keys/{id} shows the
// current version after a rotation, and a rewrap's dry run and real run
// agree (2 to change, 2 changed, no errors, COMPLETED).
func TestCustomerKeyVersionsFromConfig(t *testing.T) {
	tg, lk := startConfigKMSGateway(t)
	ctx := context.Background()
	const keyID = configKMSKey
	old := []string{tg.RecordCall(61), tg.RecordCall(62)}
	first := "0" // local-kms numbers a key's backing keys from 0
	for _, id := range old {
		if rec, _ := tg.Store().GetRecording(ctx, id); rec.KeyVersion != first || rec.KeyProvider != awskms.ProviderName || rec.Fallback {
			t.Fatalf("recording %s indexed under %s %s version %q (fallback %v)", id, rec.KeyProvider, rec.KeyID, rec.KeyVersion, rec.Fallback)
		}
	}
	// local-kms has no RotateKeyOnDemand (501): the KMS rotates the key
	// itself (a new backing key, as AWS automatic rotation makes new key
	// material) and the gateway's rotation check observes it.
	if _, err := tg.Store().UpdateKeyRotation(ctx, keyID, store.Rotation{AutoRotate: true, PeriodDays: 90}); err != nil {
		t.Fatal(err)
	}
	lk.RotateSeeded("cmk-1")
	rots, err := tg.Jobs().KeyRotator.Tick(ctx)
	if err != nil || len(rots) != 1 || rots[0].Version != "1" {
		t.Fatalf("rotation check: %+v %v", rots, err)
	}
	var key map[string]any
	if code := tg.Admin("GET", "/api/v2/keys/"+keyID, nil, &key); code != 200 || fmt.Sprint(key["binding"].(map[string]any)["currentVersion"]) != "1" {
		t.Fatalf("key after rotation: %d %v", code, key)
	}
	fresh := tg.RecordCall(63)
	if rec, _ := tg.Store().GetRecording(ctx, fresh); rec.KeyVersion != "1" {
		t.Fatalf("new call under version %q", rec.KeyVersion)
	}
	dry := tg.Reencrypt(map[string]any{"policyIds": []string{"pci"}, "dryRun": true})
	if dry.Status != store.JobCompleted || dry.PlannedChanges != 2 || dry.Errors != 0 {
		t.Fatalf("dry run %+v", dry)
	}
	rw := tg.Reencrypt(map[string]any{"policyIds": []string{"pci"}, "mode": "rewrap"})
	if rw.Status != store.JobCompleted || rw.Changed != 2 || rw.Errors != 0 {
		t.Fatalf("rewrap %+v", rw)
	}
	for _, id := range append(old, fresh) {
		if rec, _ := tg.Store().GetRecording(ctx, id); rec.KeyVersion != "1" {
			t.Fatalf("%s at version %q after the rewrap", id, rec.KeyVersion)
		}
		if _, res := tg.ExportTrack(id, playback.FormatWAV, "caller"); res.Tracks[0].Media != 25 {
			t.Fatalf("%s exports %+v after the rewrap", id, res.Tracks[0])
		}
	}
}
