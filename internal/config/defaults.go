package config

import (
	"path/filepath"
	"time"
)

// Defaults, in one place.
const (
	DefaultOrgID             = "default"
	DefaultRegion            = "local"
	DefaultDataDir           = "./var"
	DefaultLogLevel          = "info"
	DefaultLogFormat         = "console"
	DefaultAPIAddr           = "127.0.0.1:8080"
	DefaultMaxBodyBytes      = 1 << 20
	DefaultReadTimeout       = 30 * time.Second
	DefaultShutdownTimeout   = 30 * time.Second
	DefaultBindAddr          = "127.0.0.1"
	DefaultPortMin           = 40000
	DefaultPortMax           = 49999
	DefaultInactivityTimeout = 30 * time.Second
	DefaultMaxPendingBytes   = 1 << 20
	DefaultSocketBuffer      = 256 << 10
	DefaultMaxSessions       = 10000
	DefaultFlushInterval     = time.Second
	DefaultMaxChunkSize      = 64 << 10
	DefaultStorageType       = "fs"
	DefaultSpoolMaxBytes     = 10 << 30
	DefaultSpoolRetryMax     = 30 * time.Second
	DefaultSpoolCommit       = "filesystem"
	DefaultKMSTimeout        = 5 * time.Second
	DefaultPlatformKey       = "platform"
	DefaultBreakerFailures   = 3
	DefaultBreakerCooldown   = 10 * time.Second
	DefaultKMSPoolSize       = 16
	DefaultStoreDriver       = "sqlite"
)

func setStr(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

func setInt[T ~int | ~int64](p *T, v T) {
	if *p == 0 {
		*p = v
	}
}

// ApplyDefaults fills every unset field with its default.
func (c *Config) ApplyDefaults() {
	setStr(&c.Org.ID, DefaultOrgID)
	setStr(&c.Org.Region, DefaultRegion)
	setStr(&c.DataDir, DefaultDataDir)
	setStr(&c.Log.Level, DefaultLogLevel)
	setStr(&c.Log.Format, DefaultLogFormat)
	setStr(&c.API.Addr, DefaultAPIAddr)
	setInt(&c.API.MaxBodyBytes, DefaultMaxBodyBytes)
	setInt(&c.API.ReadTimeout, Duration(DefaultReadTimeout))
	setInt(&c.API.ShutdownTimeout, Duration(DefaultShutdownTimeout))
	setStr(&c.Media.BindAddr, DefaultBindAddr)
	setStr(&c.Media.AdvertiseAddr, c.Media.BindAddr)
	setInt(&c.Media.PortMin, DefaultPortMin)
	setInt(&c.Media.PortMax, DefaultPortMax)
	setInt(&c.Media.InactivityTimeout, Duration(DefaultInactivityTimeout))
	setInt(&c.Media.MaxPendingBytes, DefaultMaxPendingBytes)
	setInt(&c.Media.SocketBuffer, DefaultSocketBuffer)
	setInt(&c.Media.MaxSessions, DefaultMaxSessions)
	c.Media.MediaSource.applyDefaults()
	setInt(&c.Recording.FlushInterval, Duration(DefaultFlushInterval))
	setInt(&c.Recording.MaxChunkSize, DefaultMaxChunkSize)
	setStr(&c.Storage.Type, DefaultStorageType)
	setInt(&c.Spool.MaxBytes, DefaultSpoolMaxBytes)
	setInt(&c.Spool.RetryMax, Duration(DefaultSpoolRetryMax))
	setStr(&c.Spool.Commit, DefaultSpoolCommit)
	setInt(&c.KMS.Timeout, Duration(DefaultKMSTimeout))
	setStr(&c.KMS.PlatformKey, DefaultPlatformKey)
	c.KMS.applyPlatformDefaults()
	setInt(&c.KMS.Breaker.Failures, DefaultBreakerFailures)
	setInt(&c.KMS.Breaker.Cooldown, Duration(DefaultBreakerCooldown))
	setInt(&c.KMS.Pool.Size, DefaultKMSPoolSize)
	setStr(&c.Store.Driver, DefaultStoreDriver)
	c.SIPREC.applyDefaults()
	c.WHIP.applyDefaults()
	c.Twilio.applyDefaults()
	c.AudioHook.applyDefaults()
	c.Ceremony.applyDefaults()
	c.Audit.applyDefaults()
	c.Gateway.applyDefaults()
	for i := range c.Policies {
		c.Policies[i].Normalize()
	}
}

// SetDataDir changes the data directory; paths left empty follow it.
func (c *Config) SetDataDir(dir string) { c.DataDir = dir }

func (c *Config) under(p, def string) string {
	if p != "" {
		return p
	}
	return filepath.Join(c.DataDir, def)
}

// RecordingsDir is where the fs store keeps recordings.
func (c *Config) RecordingsDir() string { return c.under(c.Storage.FS.Dir, "recordings") }

// SpoolDir is where ciphertext is spooled before upload.
func (c *Config) SpoolDir() string { return c.under(c.Spool.Dir, "spool") }

// KeyringDir is where the platform keyring keeps its KEKs.
func (c *Config) KeyringDir() string { return c.under(c.KMS.Local.Dir, "keyring") }

// SQLitePath is the SQLite database file.
func (c *Config) SQLitePath() string { return c.under(c.Store.DSN, "mediaseal.db") }

// IngestTokenPath is where the bootstrap ingest token is written.
func (c *Config) IngestTokenPath() string { return filepath.Join(c.DataDir, "ingest.token") }
