package ceremony_test

import (
	"context"
	"testing"

	"github.com/mediaseal/mediaseal/ceremony/api"
	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/kms/awskms"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestBindEnablesKMSRotation: binding an AWS KMS key with autoRotate turns
// the KMS's own rotation on in the same request (local-kms answers
// GetKeyRotationStatus true at once); a bind without autoRotate leaves it
// off.
func TestBindEnablesKMSRotation(t *testing.T) {
	lk := gatewaytest.StartLocalKMS(t)
	tg := startCeremonyGateway(t, lk)
	ka1, ka2 := tg.Principal("key-admin-1"), tg.Principal("key-admin-2")
	ctx := context.Background()
	p, err := awskms.New(ctx, awskms.Config{Region: lk.Region, Endpoint: lk.Endpoint, AccessKeyID: "test", SecretAccessKey: "test", OrgRegion: lk.Region})
	if err != nil {
		t.Fatal(err)
	}
	for _, auto := range []bool{false, true} {
		keyID, arn := "cmk-plain", lk.ARN("cmk-1")
		if auto {
			keyID = "cmk-rotating"
		}
		ka1.Must(201, "POST", "/api/v2/keys", map[string]any{"id": keyID, "name": keyID, "keyType": "AWS_KMS",
			"region": lk.Region, "arn": arn, "keyState": "ENABLED"})
		bind := map[string]any{"name": keyID, "keyProvider": map[string]any{"providerType": "AWS_KMS", "region": lk.Region, "keyArn": arn},
			"autoRotate": auto, "rotationPeriodDays": 90, "status": "ACTIVE"}
		id, digest := ka1.Propose("key.bind", keyID, bind, "bind")
		ka2.Must(200, "POST", "/api/v2/approvals/"+id+"/approve", map[string]any{"digest": digest})
		ka1.Must(200, "POST", "/api/v2/keys/"+keyID, bind, api.HeaderApproval, id)
		on, err := p.AutoRotation(ctx, kms.KeyRef{Provider: awskms.ProviderName, KeyID: arn})
		if err != nil || on != auto {
			t.Fatalf("bound with autoRotate %v: KMS rotation %v %v", auto, on, err)
		}
	}
}
