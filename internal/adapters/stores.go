package adapters

import (
	"context"
	"fmt"

	"github.com/mediaseal/mediaseal/ceremony/store"
	"github.com/mediaseal/mediaseal/internal/config"
	"github.com/mediaseal/mediaseal/storage"
	"github.com/mediaseal/mediaseal/storage/fs"
	s3store "github.com/mediaseal/mediaseal/storage/s3"
	"github.com/mediaseal/mediaseal/storage/spool"
)

// Objects opens the configured object store.
func Objects(ctx context.Context, cfg *config.Config) (storage.Store, error) {
	if cfg.Storage.Type == "fs" {
		return fs.New(cfg.RecordingsDir())
	}
	c := cfg.Storage.S3
	st, err := s3store.New(ctx, s3store.Config{Bucket: c.Bucket, Region: c.Region, Endpoint: c.Endpoint,
		PathStyle: c.PathStyle, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, LockMode: c.LockMode})
	if err != nil {
		return nil, fmt.Errorf("storage.s3: %w", err)
	}
	return st, nil
}

// Spool opens the local spool with the configured commit mode.
func Spool(cfg *config.Config) (*spool.Spool, error) {
	var opts []spool.Option
	if cfg.Spool.Commit == "file" {
		opts = append(opts, spool.CommitPerFile())
	}
	return spool.Open(cfg.SpoolDir(), int64(cfg.Spool.MaxBytes), opts...)
}

// Store opens the control-plane store: PostgreSQL, or SQLite in the data
// directory.
func Store(ctx context.Context, cfg *config.Config) (*store.SQL, error) {
	scfg := store.Config{SQLitePath: cfg.SQLitePath()}
	if cfg.Store.Driver == "postgres" {
		scfg = store.Config{PostgresDSN: cfg.Store.DSN}
	}
	return store.Open(ctx, scfg)
}
