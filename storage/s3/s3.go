// Package s3store is the S3 object store ([storage.Store]) on
// aws-sdk-go-v2, for AWS S3 and S3-compatible servers (configurable
// endpoint, path-style addressing, static or default-chain credentials).
//
// Put streams: an object smaller than one part goes in a single PutObject,
// a larger one in a multipart upload holding at most two parts in memory,
// with parts of at least 5 MiB cut on the caller's chunk boundaries when
// [storage.PutOptions.PartBoundaries] gives them. Every request body
// carries x-amz-checksum-sha256, which the server verifies; the SHA-256 of
// the whole stream is checked against the caller's before the object is
// committed (a multipart upload is aborted instead) and kept as the object's
// "sha256" metadata so that Head reports it. Retention (object lock) and
// tags are sent when asked for. SDK errors are translated to storage errors
// at this edge.
//
// The directory is storage/s3; the package is named s3store so that it does
// not shadow the SDK's s3 package.
package s3store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/mediaseal/mediaseal/storage"
)

// metaSHA256 is the user metadata key holding the object's hex SHA-256.
const metaSHA256 = "sha256"

// Store is an S3 bucket.
type Store struct {
	client *s3.Client
	cfg    Config
}

var _ storage.Store = (*Store)(nil)

// Option adjusts the SDK client, e.g. to give it another HTTP client.
type Option func(*s3.Options)

// WithHTTPClient makes the SDK send requests through c.
func WithHTTPClient(c s3.HTTPClient) Option {
	return func(o *s3.Options) { o.HTTPClient = c }
}

// New returns a Store for cfg. It does not contact the server.
func New(ctx context.Context, cfg Config, opts ...Option) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	load := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(cfg.Region),
		awsconfig.WithRetryMaxAttempts(cfg.MaxAttempts),
	}
	if cfg.AccessKeyID != "" {
		load = append(load, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// We send our own SHA-256 on every body; the SDK adds none of its own.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		// Composite (multipart) checksums cannot be checked on a full Get; we
		// verify them at upload instead, so the SDK need not warn about it.
		o.DisableLogOutputChecksumValidationSkipped = true
		for _, opt := range opts {
			opt(o)
		}
	})
	return &Store{client: client, cfg: cfg}, nil
}

// Get implements storage.Store.
func (s *Store) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := storage.ValidateKey(key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("%w: offset %d", storage.ErrInvalidRange, offset)
	}
	if length == 0 {
		if _, err := s.Head(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	in := &s3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)}
	switch {
	case offset == 0 && length < 0:
	case length < 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	default:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	}
	out, err := s.client.GetObject(ctx, in)
	if err == nil {
		return &body{ReadCloser: out.Body, ctx: ctx, key: key}, nil
	}
	err = translate(ctx, "get", key, err)
	if !errors.Is(err, storage.ErrInvalidRange) {
		return nil, err
	}
	// S3 refuses a range starting at or past the end; the contract reads
	// nothing there, as a file does, if the object exists.
	if _, err := s.Head(ctx, key); err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(nil)), nil
}

// body translates errors met while streaming a GetObject body.
type body struct {
	io.ReadCloser
	ctx context.Context //nolint:containedctx // lives for one Get
	key string
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = translate(b.ctx, "get", b.key, err)
	}
	return n, err
}

// Head implements storage.Store. SHA256 comes from the object's "sha256"
// metadata, or from the server's x-amz-checksum-sha256 for objects stored
// in one part.
func (s *Store) Head(ctx context.Context, key string) (storage.ObjectInfo, error) {
	if err := storage.ValidateKey(key); err != nil {
		return storage.ObjectInfo{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket:       aws.String(s.cfg.Bucket),
		Key:          aws.String(key),
		ChecksumMode: types.ChecksumModeEnabled,
	})
	if err != nil {
		return storage.ObjectInfo{}, translate(ctx, "head", key, err)
	}
	info := storage.ObjectInfo{Key: key, Size: aws.ToInt64(out.ContentLength), Modified: aws.ToTime(out.LastModified)}
	if v := out.Metadata[metaSHA256]; v != "" {
		info.SHA256 = strings.ToLower(v)
	} else if v := aws.ToString(out.ChecksumSHA256); v != "" && !strings.Contains(v, "-") {
		if raw, err := base64.StdEncoding.DecodeString(v); err == nil {
			info.SHA256 = hex.EncodeToString(raw)
		}
	}
	return info, nil
}

// List implements storage.Store.
func (s *Store) List(ctx context.Context, prefix string) ([]storage.ObjectInfo, error) {
	if err := storage.ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.cfg.Bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	var out []storage.ObjectInfo
	for p := s3.NewListObjectsV2Paginator(s.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, translate(ctx, "list", prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, "/") {
				continue // a "directory" marker some servers list, never ours
			}
			out = append(out, storage.ObjectInfo{Key: key, Size: aws.ToInt64(o.Size), Modified: aws.ToTime(o.LastModified)})
		}
	}
	// S3 lists in UTF-8 byte order already; compatible servers may not.
	slices.SortFunc(out, func(a, b storage.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Delete implements storage.Store. In a versioned (object-lock) bucket it
// leaves a delete marker; retained versions stay until their retention ends.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	if err = translate(ctx, "delete", key, err); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return nil
}
