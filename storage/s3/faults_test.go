package s3store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mediaseal/mediaseal/internal/testenv"
	"github.com/mediaseal/mediaseal/storage"
	s3store "github.com/mediaseal/mediaseal/storage/s3"
)

func hexSum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// corruptingTransport flips one byte in the body of the first n PUT
// requests after signing: the bytes the server receives differ from those
// the client hashed, as a faulty proxy or NIC would make them.
type corruptingTransport struct {
	left atomic.Int32
}

func (c *corruptingTransport) Do(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && req.Body != nil && req.ContentLength > 0 && c.left.Add(-1) >= 0 {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		b[len(b)/2] ^= 0x01
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestServerVerifiesChecksum shows that the server, not only the client,
// checks every body: a byte flipped in transit is refused as ErrChecksum
// and nothing is stored, for a single PutObject and for a part.
func TestServerVerifiesChecksum(t *testing.T) {
	g := testenv.StartVersityGW(t)
	ctx := context.Background()
	for _, size := range []int{4096, s3store.MinPartSize + 100} {
		ct := &corruptingTransport{}
		ct.left.Store(1)
		s := newStore(t, g, g.Bucket, s3store.WithHTTPClient(ct))
		b := bytes.Repeat([]byte("ciphertext"), size/10)
		key := "corrupt/" + hexSum(b)[:8]
		_, err := s.Put(ctx, key, bytes.NewReader(b), storage.PutOptions{SHA256: hexSum(b)})
		t.Logf("size %d: %v", size, err)
		if !errors.Is(err, storage.ErrChecksum) {
			t.Fatalf("size %d: Put through a corrupting link = %v, want ErrChecksum", size, err)
		}
		if _, err := s.Head(ctx, key); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("size %d: Head after the refused Put = %v, want ErrNotFound", size, err)
		}
		// The link is clean again: the same Put goes through.
		if _, err := s.Put(ctx, key, bytes.NewReader(b), storage.PutOptions{SHA256: hexSum(b)}); err != nil {
			t.Fatalf("size %d: Put on a clean link: %v", size, err)
		}
	}
}

// TestPartsFollowBoundaries checks on the server that a multipart upload
// ends its parts on the caller's chunk boundaries.
func TestPartsFollowBoundaries(t *testing.T) {
	g := testenv.StartVersityGW(t)
	ctx := context.Background()
	s := newStore(t, g, g.Bucket)
	const chunk = 65536 + 45 // a sealed chunk with its overhead
	size := int64(12<<20 + 777)
	var bounds []int64
	for off := int64(chunk); ; off += chunk {
		bounds = append(bounds, min(off, size))
		if off >= size {
			break
		}
	}
	b := bytes.Repeat([]byte{0x5a}, int(size))
	if _, err := s.Put(ctx, "parts/r.seal", bytes.NewReader(b), storage.PutOptions{SHA256: hexSum(b), PartBoundaries: bounds}); err != nil {
		t.Fatal(err)
	}
	var off int64
	for n := int32(1); off < size; n++ {
		out, err := g.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(g.Bucket), Key: aws.String("parts/r.seal"), PartNumber: aws.Int32(n)})
		if err != nil {
			t.Fatalf("HeadObject part %d: %v", n, err)
		}
		l := aws.ToInt64(out.ContentLength)
		off += l
		if off < size && (off%chunk != 0 || l < s3store.MinPartSize) {
			t.Fatalf("part %d ends at %d (length %d): not on a chunk boundary or below 5 MiB", n, off, l)
		}
	}
	if off != size {
		t.Fatalf("parts add up to %d, want %d", off, size)
	}
}

// TestTagsAndRetention checks that tags and object-lock retention reach the
// server, and that a retained object cannot be removed.
func TestTagsAndRetention(t *testing.T) {
	g := testenv.StartVersityGW(t)
	ctx := context.Background()
	s := newStore(t, g, g.Bucket)
	until := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	tags := map[string]string{"org": "acme", "policy": "pci hold"}
	for _, size := range []int{100, s3store.MinPartSize + 1} {
		key := "retained/" + strings.Repeat("x", size%7+1)
		b := bytes.Repeat([]byte{1}, size)
		if _, err := s.Put(ctx, key, bytes.NewReader(b), storage.PutOptions{SHA256: hexSum(b), RetainUntil: until, Tags: tags}); err != nil {
			t.Fatalf("size %d: Put: %v", size, err)
		}
		tg, err := g.Client().GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(g.Bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("size %d: GetObjectTagging: %v", size, err)
		}
		got := map[string]string{}
		for _, tag := range tg.TagSet {
			got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		if len(got) != len(tags) || got["org"] != "acme" || got["policy"] != "pci hold" {
			t.Errorf("size %d: tags %v, want %v", size, got, tags)
		}
		ret, err := g.Client().GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String(g.Bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("size %d: GetObjectRetention: %v", size, err)
		}
		if r := ret.Retention; r == nil || string(r.Mode) != s3store.DefaultLockMode || !aws.ToTime(r.RetainUntilDate).Equal(until) {
			t.Errorf("size %d: retention %+v, want %s until %v", size, r, s3store.DefaultLockMode, until)
		}
		err = s.Delete(ctx, key)
		t.Logf("size %d: Delete of a retained object: %v", size, err)
		if _, herr := s.Head(ctx, key); err == nil && herr != nil {
			t.Errorf("size %d: a retained object was deleted (Head: %v)", size, herr)
		} else if err != nil && !errors.Is(err, storage.ErrAccessDenied) {
			t.Errorf("size %d: Delete of a retained object = %v, want ErrAccessDenied", size, err)
		}
	}
}

// TestUnavailableAndDenied checks the translation of transport failures
// and refused credentials.
func TestUnavailableAndDenied(t *testing.T) {
	g := testenv.StartVersityGW(t)
	ctx := context.Background()

	bad, err := s3store.New(ctx, s3store.Config{
		Bucket: g.Bucket, Region: g.Region, Endpoint: g.Endpoint, PathStyle: true,
		AccessKeyID: g.AccessKey, SecretAccessKey: "wrong" + g.SecretKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Put(ctx, "k", strings.NewReader("x"), storage.PutOptions{})
	if !errors.Is(err, storage.ErrAccessDenied) {
		t.Fatalf("Put with a wrong secret = %v, want ErrAccessDenied", err)
	}
	if strings.Contains(err.Error(), g.SecretKey) {
		t.Errorf("error text leaks the secret: %v", err)
	}

	s := newStore(t, g, g.Bucket)
	g.Stop()
	for name, call := range map[string]func() error{
		"put":    func() error { _, err := s.Put(ctx, "k", strings.NewReader("x"), storage.PutOptions{}); return err },
		"get":    func() error { _, err := s.Get(ctx, "k", 0, -1); return err },
		"head":   func() error { _, err := s.Head(ctx, "k"); return err },
		"list":   func() error { _, err := s.List(ctx, ""); return err },
		"delete": func() error { return s.Delete(ctx, "k") },
	} {
		if err := call(); !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("%s with the server stopped = %v, want ErrUnavailable", name, err)
		}
	}
	// A paused server hangs: the caller's deadline ends the call.
	g.Start()
	g.Pause()
	dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.Head(dctx, "k")
	g.Resume()
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("Head on a paused server = %v after %v, want DeadlineExceeded soon", err, time.Since(start))
	}
	if _, err := s.Put(ctx, "k", strings.NewReader("x"), storage.PutOptions{}); err != nil {
		t.Errorf("Put after Resume: %v", err)
	}
}
