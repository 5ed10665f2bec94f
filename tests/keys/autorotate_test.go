package keys_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkkms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/mediaseal/mediaseal/ceremony/jobs"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/awskms"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestAutoRotateEnablesKMSRotation: a registered AWS KMS key with
// autoRotate is rotated by AWS KMS itself, as docs/ceremony.md says: the
// gateway's rotation check turns EnableKeyRotation on in the KMS (local-kms
// here), audited, and turns it on again when someone turns it off in the
// KMS behind the registry's back. A key without autoRotate is left alone.
func TestAutoRotateEnablesKMSRotation(t *testing.T) {
	tg, lk := startConfigKMSGateway(t)
	ctx := context.Background()
	const keyID = configKMSKey
	ref := kms.KeyRef{Provider: awskms.ProviderName, KeyID: lk.ARN("cmk-1")}
	p, err := awskms.New(ctx, awskms.Config{Region: lk.Region, Endpoint: lk.Endpoint, AccessKeyID: "test", SecretAccessKey: "test", OrgRegion: lk.Region})
	if err != nil {
		t.Fatal(err)
	}
	rotating := func() bool {
		t.Helper()
		on, err := p.AutoRotation(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		return on
	}

	if _, err := tg.Jobs().KeyRotator.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if rotating() {
		t.Fatal("rotation turned on for a key without autoRotate")
	}
	if _, err := tg.Store().UpdateKeyRotation(ctx, keyID, store.Rotation{AutoRotate: true, PeriodDays: 90}); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Jobs().KeyRotator.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if !rotating() {
		t.Fatal("autoRotate key: rotation not enabled in the KMS")
	}

	client := sdkkms.NewFromConfig(aws.Config{Region: lk.Region, Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")},
		func(o *sdkkms.Options) { o.BaseEndpoint = aws.String(lk.Endpoint) })
	if _, err := client.DisableKeyRotation(ctx, &sdkkms.DisableKeyRotationInput{KeyId: aws.String(ref.KeyID)}); err != nil {
		t.Fatal(err)
	}
	if rotating() {
		t.Fatal("DisableKeyRotation did not take")
	}
	if _, err := tg.Jobs().KeyRotator.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if !rotating() {
		t.Fatal("rotation turned off in the KMS stays off")
	}
	// Two ticks at once (this test's and the gateway's own) may each turn
	// it on: what counts is that every turn-on is audited.
	if n := enablings(t, tg); n < 2 {
		t.Fatalf("%d audited enablings, want one per turn-on (2)", n)
	}
}

// enablings counts the audited successful turn-ons of the KMS's rotation
// of configKMSKey.
func enablings(t *testing.T, tg *gatewaytest.Gateway) int {
	t.Helper()
	evs, err := tg.Store().ListAuditEntries(context.Background(), store.AuditFilter{Action: jobs.ActionKeyAutoRotationEnabled,
		Target: "key:" + configKMSKey, Outcome: "success"})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}
