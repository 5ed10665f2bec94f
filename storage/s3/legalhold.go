package s3store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/mediaseal/mediaseal/storage"
)

var (
	_ storage.LegalHolder = (*Store)(nil)
	_ storage.Purger      = (*Store)(nil)
)

// SetLegalHold implements storage.LegalHolder on the object's current
// version (the only one a recording has: it is written once).
func (s *Store) SetLegalHold(ctx context.Context, key string, on bool) error {
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	status := types.ObjectLockLegalHoldStatusOff
	if on {
		status = types.ObjectLockLegalHoldStatusOn
	}
	_, err := s.client.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key),
		LegalHold: &types.ObjectLockLegalHold{Status: status}})
	return translate(ctx, "legal hold", key, err)
}

// Purge implements storage.Purger: every version and delete marker of
// exactly key is deleted by version id. Retained or held versions are
// refused by S3 (access denied), which Purge returns.
func (s *Store) Purge(ctx context.Context, key string) ([]storage.DeletedVersion, error) {
	if err := storage.ValidateKey(key); err != nil {
		return nil, err
	}
	var todo []storage.DeletedVersion
	p := s3.NewListObjectVersionsPaginator(s.client, &s3.ListObjectVersionsInput{Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String(key)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, translate(ctx, "list versions", key, err)
		}
		for _, v := range page.Versions {
			if aws.ToString(v.Key) == key {
				todo = append(todo, storage.DeletedVersion{Key: key, VersionID: aws.ToString(v.VersionId), Size: aws.ToInt64(v.Size),
					ETag: aws.ToString(v.ETag)})
			}
		}
		for _, m := range page.DeleteMarkers {
			if aws.ToString(m.Key) == key {
				todo = append(todo, storage.DeletedVersion{Key: key, VersionID: aws.ToString(m.VersionId), DeleteMarker: true})
			}
		}
	}
	done := make([]storage.DeletedVersion, 0, len(todo))
	for _, v := range todo {
		in := &s3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)}
		if v.VersionID != "" {
			in.VersionId = aws.String(v.VersionID)
		}
		if _, err := s.client.DeleteObject(ctx, in); err != nil {
			return done, translate(ctx, "delete version "+v.VersionID, key, err)
		}
		done = append(done, v)
	}
	return done, nil
}
