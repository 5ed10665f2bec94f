package ceremony_test

import (
	"context"
	"fmt"
	"github.com/mediaseal/mediaseal/playback/offline"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// TestAuditAnchorS3 runs a gateway whose audit.anchor is an object-lock
// bucket on versitygw: the quorum key bind's head is in the bucket at
// once, locked; the database's holder (with the bucket's root
// credentials too) cannot delete or overwrite it, so cutting the bind
// from the database is named by verify.
func TestAuditAnchorS3(t *testing.T) {
	lk := gatewaytest.StartLocalKMS(t)
	gw := testenv.StartVersityGW(t)
	gw.NewBucket(t, "audit-anchors")
	tg := startAnchorGateway(t, lk, func(c *config.Config) {
		c.Audit.Anchor = config.AuditAnchor{Backend: "s3", S3: config.AuditAnchorS3{
			StorageS3: config.StorageS3{Bucket: "audit-anchors", Region: gw.Region, Endpoint: gw.Endpoint, PathStyle: true,
				AccessKeyID: gw.AccessKey, SecretAccessKey: gw.SecretKey},
			Prefix: "heads/", Retention: config.Duration(48 * time.Hour)}}
	})
	bound := bindWithQuorum(t, tg, lk.ARN("cmk-1"), lk.Region)
	if code, body := readyz(t, tg); code != 200 || !strings.Contains(body, `"auditAnchor":"ok"`) {
		t.Fatalf("readyz: %d %s", code, body)
	}
	anchor, err := offline.AuditAnchor(context.Background(), tg.Config())
	if err != nil {
		t.Fatal(err)
	}
	heads, err := anchor.Heads(context.Background())
	if err != nil || len(heads) != 1 || heads[0].Seq < bound {
		t.Fatalf("heads in the bucket %+v %v, want one at or after the bind (%d)", heads, err, bound)
	}
	keys, err := audit.PublicKeys(context.Background(), tg.Store()) // taken at the ceremony, before any tampering
	if err != nil {
		t.Fatal(err)
	}
	tg.Shutdown()

	// The holder tries the bucket: the head cannot be removed or replaced.
	c := gw.Client()
	key := aws.String(fmt.Sprintf("heads/%020d.json", heads[0].Seq))
	if _, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("audit-anchors"), Key: key}); err == nil {
		t.Error("the server deleted an anchored head")
	}
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("audit-anchors"), Key: key,
		Body: strings.NewReader("{}")}); err == nil {
		t.Error("the server overwrote an anchored head")
	}
	// ... and cuts the database instead.
	sqlExec(t, tg.Config().DataDir, fmt.Sprintf(`DELETE FROM audit_events WHERE seq >= %d`, bound), fmt.Sprintf(`DELETE FROM audit_checkpoints WHERE seq >= %d`, bound))
	heads, err = anchor.Heads(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st := openStoreAt(t, filepath.Join(tg.Config().DataDir, "mediaseal.db"))
	if _, err := audit.VerifyStore(context.Background(), st, keys, heads...); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("entry %d:", bound)) {
		t.Fatalf("verify after the cut: %v, want entry %d named", err, bound)
	}
}
