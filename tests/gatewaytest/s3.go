package gatewaytest

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/internal/testenv"
)

// WithS3 points a gateway's object storage at a versitygw bucket.
func WithS3(vg *testenv.VersityGW) func(*config.Config) {
	return func(c *config.Config) {
		c.Storage.Type = "s3"
		c.Storage.S3 = config.StorageS3{Bucket: vg.Bucket, Region: vg.Region, Endpoint: vg.Endpoint,
			PathStyle: true, AccessKeyID: vg.AccessKey, SecretAccessKey: vg.SecretKey}
	}
}

// BucketObjects reads every object of the bucket through the S3 API.
func BucketObjects(t *testing.T, vg *testenv.VersityGW) map[string][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := vg.Client()
	out := map[string][]byte{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(vg.Bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list bucket: %v", err)
		}
		for _, o := range page.Contents {
			obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(vg.Bucket), Key: o.Key})
			if err != nil {
				t.Fatalf("get %s: %v", aws.ToString(o.Key), err)
			}
			b, err := io.ReadAll(obj.Body)
			obj.Body.Close()
			if err != nil {
				t.Fatalf("read %s: %v", aws.ToString(o.Key), err)
			}
			out[aws.ToString(o.Key)] = b
		}
	}
	return out
}
