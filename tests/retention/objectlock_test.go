package retention_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/tests/gatewaytest"
)

// A recording made under the organisation default retention has its
// retain-until in the index, fixed at creation, and the same date as the
// object's lock retention in the bucket; deleting that object version
// early is refused by the object store itself, so a database holder
// editing retain_until cannot get it deleted early.
func TestRetainUntilIsObjectLock(t *testing.T) {
	vg := testenv.StartVersityGW(t)
	gw := gatewaytest.Start(t, func(c *config.Config) {
		gatewaytest.WithS3(vg)(c)
		c.Recording.RetentionDays = 3
		c.Storage.S3.LockMode = "GOVERNANCE"
	})
	call := gw.CreateCall("q")
	senders := []*gatewaytest.Sender{
		gatewaytest.NewSender(t, call.Tracks[0].RTP, 0x1111, 440), gatewaytest.NewSender(t, call.Tracks[1].RTP, 0x2222, 1000),
	}
	next := time.Now()
	for i := 0; i < 25; i++ {
		for _, s := range senders {
			s.Send(s.Packet(i))
		}
		next = next.Add(20 * time.Millisecond)
		time.Sleep(time.Until(next))
	}
	time.Sleep(150 * time.Millisecond)
	if sum := gw.End(call); sum.Status != "COMPLETE" {
		t.Fatalf("summary %+v", sum)
	}
	gw.WaitStored(call.RecordingID)
	rec := gatewaytest.WaitIndexStatus(t, gw.Gateway, call.RecordingID, store.RecordingComplete)
	if want := rec.StartedAt.AddDate(0, 0, 3); !rec.RetainUntil.Equal(want) {
		t.Fatalf("index retain-until %v, want started %v + 3 days = %v", rec.RetainUntil, rec.StartedAt, want)
	}
	// The API shows it to whoever may read the index.
	got := gw.Principal("auditor-1").Must(200, "GET", "/api/v2/recordings/"+call.RecordingID, nil)
	if at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(got["retainUntil"])); err != nil || !at.Equal(rec.RetainUntil) {
		t.Fatalf("API retainUntil %v, want %v", got["retainUntil"], rec.RetainUntil)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := vg.Client()
	ret, err := c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String(vg.Bucket), Key: aws.String(rec.ObjectKey)})
	if err != nil {
		t.Fatalf("object retention of %s: %v", rec.ObjectKey, err)
	}
	if ret.Retention == nil || ret.Retention.Mode != types.ObjectLockRetentionModeGovernance ||
		ret.Retention.RetainUntilDate == nil || ret.Retention.RetainUntilDate.Unix() != rec.RetainUntil.Unix() {
		t.Fatalf("object retention %+v, want GOVERNANCE until %v", ret.Retention, rec.RetainUntil)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(vg.Bucket), Key: aws.String(rec.ObjectKey)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(vg.Bucket), Key: aws.String(rec.ObjectKey),
		VersionId: head.VersionId}); err == nil {
		t.Fatalf("deleting the locked object %s (version %q) before its retain-until succeeded", rec.ObjectKey, aws.ToString(head.VersionId))
	}
	if _, ok := gatewaytest.BucketObjects(t, vg)[rec.ObjectKey]; !ok {
		t.Fatalf("object %s gone after the refused delete", rec.ObjectKey)
	}
}
