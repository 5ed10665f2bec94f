package s3store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/storage"
	s3store "github.com/mediaseal/mediaseal/storage/s3"
	"github.com/mediaseal/mediaseal/storage/storagetest"
)

// newStore returns a Store on a fresh bucket of g, with 5 MiB parts so that
// the large-object test uploads three.
func newStore(t *testing.T, g *testenv.VersityGW, bucket string, opts ...s3store.Option) *s3store.Store {
	return newStoreTB(t, g, bucket, opts...)
}

func newStoreB(b *testing.B, g *testenv.VersityGW) *s3store.Store { return newStoreTB(b, g, g.Bucket) }

func newStoreTB(t testing.TB, g *testenv.VersityGW, bucket string, opts ...s3store.Option) *s3store.Store {
	t.Helper()
	s, err := s3store.New(context.Background(), s3store.Config{
		Bucket:          bucket,
		Region:          g.Region,
		Endpoint:        g.Endpoint,
		PathStyle:       true,
		AccessKeyID:     g.AccessKey,
		SecretAccessKey: g.SecretKey,
		PartSize:        s3store.MinPartSize,
	}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	g := testenv.StartVersityGW(t)
	var n atomic.Int32
	storagetest.Run(t, func(t *testing.T) storage.Store {
		bucket := fmt.Sprintf("conf-%d", n.Add(1))
		g.NewBucket(t, bucket)
		return newStore(t, g, bucket)
	}, storagetest.Options{})
}
