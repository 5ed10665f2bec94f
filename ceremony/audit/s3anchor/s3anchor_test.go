package s3anchor_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/mediaseal/mediaseal/ceremony/audit"
	"github.com/mediaseal/mediaseal/ceremony/audit/s3anchor"
	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/testenv"
	s3store "github.com/mediaseal/mediaseal/storage/s3"
)

// TestObjectLockAnchor runs a log against the object-lock anchor on
// versitygw, cuts the database's tail with SQL, and checks that (1)
// verify names the first missing entry from the head in the bucket and
// (2) the holder of the bucket's root credentials can neither delete the
// head's version nor shorten its retention: the server refuses.
func TestObjectLockAnchor(t *testing.T) {
	gw := testenv.StartVersityGW(t)
	ctx := context.Background()
	a, err := s3anchor.New(ctx, s3store.Config{Bucket: gw.Bucket, Region: gw.Region, Endpoint: gw.Endpoint, PathStyle: true,
		AccessKeyID: gw.AccessKey, SecretAccessKey: gw.SecretKey}, "audit-heads/", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(t.TempDir(), "c.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	keys := map[string]ed25519.PublicKey{"k1": pub}
	log := audit.New(st, audit.Options{Signer: priv, Kid: "k1", CheckpointEvery: 100, Anchor: a})
	for i, action := range []string{"key.registered", "key.bound", "key.registered", "recording.playback"} {
		if _, err := log.Record(ctx, audit.Event{Actor: "ka", Action: action}); err != nil {
			t.Fatalf("record %d: %v", i+1, err)
		}
	}
	if err := log.AnchorErr(); err != nil {
		t.Fatal(err)
	}
	heads, err := a.Heads(ctx)
	if err != nil || len(heads) != 1 || heads[0].Seq != 4 {
		t.Fatalf("heads %+v %v, want the playback's head (4)", heads, err)
	}
	if _, err := audit.VerifyStore(ctx, st, keys, heads...); err != nil {
		t.Fatalf("intact chain: %v", err)
	}
	// The database's holder cuts the playback and its checkpoint.
	if _, err := st.DB().Exec(`DELETE FROM audit_events WHERE seq >= 3`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(`DELETE FROM audit_checkpoints WHERE seq >= 3`); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.VerifyStore(ctx, st, keys, heads...); err == nil || !bytesContains(err.Error(), "entry 3:") {
		t.Fatalf("verify after the cut: %v, want entry 3 named", err)
	}

	// ... and then tries the bucket with its root credentials.
	c := gw.Client()
	key := aws.String("audit-heads/00000000000000000004.json")
	// The testenv bucket is not versioned: the head is the object's only
	// version, and the lock must refuse every way of changing it.
	bucket := aws.String(gw.Bucket)
	ret, err := c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: bucket, Key: key})
	if err != nil || ret.Retention.Mode != types.ObjectLockRetentionModeCompliance {
		t.Fatalf("retention of the head: %+v %v, want COMPLIANCE", ret, err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: key}); err == nil {
		t.Error("the server deleted a locked head")
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: key, BypassGovernanceRetention: aws.Bool(true)}); err == nil {
		t.Error("the server deleted a COMPLIANCE head with bypass-governance")
	}
	if _, err := c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: bucket, Key: key,
		Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(time.Now().Add(time.Minute))}}); err == nil {
		t.Error("the server shortened a COMPLIANCE retention")
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key, Body: bytes.NewReader([]byte("{}"))}); err == nil {
		t.Error("the server overwrote a locked head")
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if want, _ := audit.EncodeHead(heads[0]); !bytes.Equal(b, want) {
		t.Fatalf("the anchored head changed: %s", b)
	}
	if hs, err := a.Heads(ctx); err != nil || len(hs) != 1 || hs[0].Seq != 4 {
		t.Fatalf("heads after the attempts: %+v %v", hs, err)
	}
}

func bytesContains(s, sub string) bool { return bytes.Contains([]byte(s), []byte(sub)) }
