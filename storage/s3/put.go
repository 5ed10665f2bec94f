package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/mediaseal/mediaseal/storage"
)

// abortTimeout bounds the AbortMultipartUpload sent after a failed Put,
// which runs even when the Put's context is done.
const abortTimeout = 10 * time.Second

// Put implements storage.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, opts storage.PutOptions) (storage.ObjectInfo, error) {
	if err := storage.ValidateKey(key); err != nil {
		return storage.ObjectInfo{}, err
	}
	want, err := storage.ParseSHA256(opts.SHA256)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("s3 store: put %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("s3 store: put %s: %w", key, err)
	}
	pr := &partReader{r: r, partSize: s.cfg.PartSize, bounds: opts.PartBoundaries, whole: sha256.New()}
	first, err := pr.next(nil)
	if err != nil {
		return storage.ObjectInfo{}, fmt.Errorf("s3 store: put %s: reading the source: %w", key, err)
	}
	var second []byte
	if !pr.eof {
		if second, err = pr.next(nil); err != nil {
			return storage.ObjectInfo{}, fmt.Errorf("s3 store: put %s: reading the source: %w", key, err)
		}
	}
	if len(second) == 0 {
		return s.putSingle(ctx, key, first, pr.whole, want, opts)
	}
	return s.putMultipart(ctx, key, pr, first, second, want, opts)
}

// check compares what was read with what the caller announced.
func check(key string, got []byte, n int64, want []byte, opts storage.PutOptions) error {
	if want != nil && !bytes.Equal(want, got) {
		return fmt.Errorf("%w: %s: sent %x, read %x", storage.ErrChecksum, key, want, got)
	}
	if opts.Size > 0 && n != opts.Size {
		return fmt.Errorf("%w: %s: size %d sent, %d read", storage.ErrChecksum, key, opts.Size, n)
	}
	return nil
}

func (s *Store) putSingle(ctx context.Context, key string, b []byte, whole hash.Hash, want []byte, opts storage.PutOptions) (storage.ObjectInfo, error) {
	sum := whole.Sum(nil)
	if err := check(key, sum, int64(len(b)), want, opts); err != nil {
		return storage.ObjectInfo{}, err
	}
	in := &s3.PutObjectInput{
		Bucket:            aws.String(s.cfg.Bucket),
		Key:               aws.String(key),
		Body:              bytes.NewReader(b),
		ContentLength:     aws.Int64(int64(len(b))),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ChecksumSHA256:    aws.String(base64.StdEncoding.EncodeToString(sum)),
		Metadata:          map[string]string{metaSHA256: hex.EncodeToString(sum)},
	}
	in.Tagging = tagging(opts.Tags)
	if !opts.RetainUntil.IsZero() {
		in.ObjectLockMode = types.ObjectLockMode(s.cfg.LockMode)
		in.ObjectLockRetainUntilDate = aws.Time(opts.RetainUntil)
	}
	if _, err := s.client.PutObject(ctx, in); err != nil {
		return storage.ObjectInfo{}, translate(ctx, "put", key, err)
	}
	return storage.ObjectInfo{Key: key, Size: int64(len(b)), Modified: time.Now(), SHA256: hex.EncodeToString(sum)}, nil
}

// putMultipart uploads first, second and the rest of pr as parts, then
// checks the whole stream before completing; on any failure it aborts.
func (s *Store) putMultipart(ctx context.Context, key string, pr *partReader, first, second, want []byte, opts storage.PutOptions) (_ storage.ObjectInfo, err error) {
	create := &s3.CreateMultipartUploadInput{
		Bucket:            aws.String(s.cfg.Bucket),
		Key:               aws.String(key),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ChecksumType:      types.ChecksumTypeComposite,
		Tagging:           tagging(opts.Tags),
	}
	if want != nil {
		create.Metadata = map[string]string{metaSHA256: hex.EncodeToString(want)}
	}
	if !opts.RetainUntil.IsZero() {
		create.ObjectLockMode = types.ObjectLockMode(s.cfg.LockMode)
		create.ObjectLockRetainUntilDate = aws.Time(opts.RetainUntil)
	}
	mpu, err := s.client.CreateMultipartUpload(ctx, create)
	if err != nil {
		return storage.ObjectInfo{}, translate(ctx, "put", key, err)
	}
	id := mpu.UploadId
	defer func() {
		if err != nil {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
			defer cancel()
			_, _ = s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
				Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key), UploadId: id,
			})
		}
	}()

	var parts []types.CompletedPart
	composite := sha256.New() // SHA-256 of the part digests, as S3 computes it
	cur, next := first, second
	for n := int32(1); len(cur) > 0; n++ {
		digest := sha256.Sum256(cur)
		composite.Write(digest[:])
		b64 := base64.StdEncoding.EncodeToString(digest[:])
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:            aws.String(s.cfg.Bucket),
			Key:               aws.String(key),
			UploadId:          id,
			PartNumber:        aws.Int32(n),
			Body:              bytes.NewReader(cur),
			ContentLength:     aws.Int64(int64(len(cur))),
			ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
			ChecksumSHA256:    aws.String(b64),
		})
		if err != nil {
			return storage.ObjectInfo{}, translate(ctx, fmt.Sprintf("put part %d", n), key, err)
		}
		if got := aws.ToString(out.ChecksumSHA256); got != "" && got != b64 {
			return storage.ObjectInfo{}, fmt.Errorf("%w: %s part %d: server has %s, sent %s", storage.ErrChecksum, key, n, got, b64)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n), ChecksumSHA256: aws.String(b64)})
		// cur's buffer is free again: read the part after next into it.
		cur, next = next, cur[:0]
		if len(cur) > 0 && !pr.eof {
			if next, err = pr.next(next); err != nil {
				return storage.ObjectInfo{}, fmt.Errorf("s3 store: put %s: reading the source: %w", key, err)
			}
		} else {
			next = nil
		}
	}
	sum := pr.whole.Sum(nil)
	if err := check(key, sum, pr.off, want, opts); err != nil {
		return storage.ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil { // honour a cancellation before committing
		return storage.ObjectInfo{}, fmt.Errorf("s3 store: put %s: %w", key, err)
	}
	out, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.cfg.Bucket),
		Key:             aws.String(key),
		UploadId:        id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return storage.ObjectInfo{}, translate(ctx, "put complete", key, err)
	}
	wantComposite := fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(composite.Sum(nil)), len(parts))
	if got := aws.ToString(out.ChecksumSHA256); got != "" && got != wantComposite {
		// Committed but not what we sent; the caller's retry overwrites it.
		return storage.ObjectInfo{}, fmt.Errorf("%w: %s: server's composite checksum %s, want %s", storage.ErrChecksum, key, got, wantComposite)
	}
	return storage.ObjectInfo{Key: key, Size: pr.off, Modified: time.Now(), SHA256: hex.EncodeToString(sum)}, nil
}

// partReader cuts a stream into parts of at least partSize bytes, ending
// each on the first caller boundary at or past partSize when there is one
// within twice the part size (so a part never splits a sealed chunk), or
// at exactly partSize otherwise. It hashes the whole stream as it goes.
type partReader struct {
	r        io.Reader
	partSize int64
	bounds   []int64
	whole    hash.Hash
	off      int64 // bytes read so far
	eof      bool  // the source has ended
}

// partLen is the length of the part starting at p.off.
func (p *partReader) partLen() int64 {
	for len(p.bounds) > 0 && p.bounds[0]-p.off < p.partSize {
		p.bounds = p.bounds[1:]
	}
	if len(p.bounds) > 0 && p.bounds[0]-p.off <= 2*p.partSize {
		return p.bounds[0] - p.off
	}
	return p.partSize
}

// next reads the next part into buf (reusing its memory); a short or empty
// part means the source has ended.
func (p *partReader) next(buf []byte) ([]byte, error) {
	if p.eof {
		return buf[:0], nil
	}
	n := p.partLen()
	if int64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	m, err := io.ReadFull(p.r, buf[:n])
	buf = buf[:m]
	p.whole.Write(buf)
	p.off += int64(m)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		p.eof, err = true, nil
	}
	return buf, err
}

// tagging encodes tags as the x-amz-tagging query string.
func tagging(tags map[string]string) *string {
	if len(tags) == 0 {
		return nil
	}
	v := url.Values{}
	for k, t := range tags {
		v.Set(k, t)
	}
	return aws.String(v.Encode())
}
