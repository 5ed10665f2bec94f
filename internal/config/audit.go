package config

import (
	"fmt"
	"time"
)

// Audit configures where the audit log's signed heads are anchored
// outside the control-plane database.
type Audit struct {
	Anchor AuditAnchor `yaml:"anchor"`
	// PinnedKeysFile holds the checkpoint keys the auditor exported
	// (`mediaseal audit keys export`): GET /api/v2/audit/verify, and so the
	// console, verify with them instead of the keys in the database.
	PinnedKeysFile string `yaml:"pinnedKeysFile"`
}

// AuditAnchor is the write-once place signed heads are published to as
// they are made (every checkpoint, and each sensitive event at once).
type AuditAnchor struct {
	// Backend is "file" (the trial default: a local append-only file,
	// only as good as the host), "s3" (a bucket with object lock in
	// COMPLIANCE mode, which the database's holder cannot rewrite) or
	// "none" (heads stay in the database only; truncation of the log's
	// tail cannot be detected).
	Backend string          `yaml:"backend"`
	File    AuditAnchorFile `yaml:"file"`
	S3      AuditAnchorS3   `yaml:"s3"`
}

// AuditAnchorFile configures the local file anchor.
type AuditAnchorFile struct {
	// Path, default <dataDir>/audit-anchors.log.
	Path string `yaml:"path"`
	// AppendOnlyFlag sets FS_APPEND_FL (chattr +a) on the file when the
	// gateway runs as root: then even root must clear the flag before it
	// can rewrite the file (or remove the data directory).
	AppendOnlyFlag bool `yaml:"appendOnlyFlag"`
}

// AuditAnchorS3 configures the object-lock anchor. The bucket must have
// been created with object lock enabled.
type AuditAnchorS3 struct {
	StorageS3 `yaml:",inline"`
	// Prefix of the head objects, default "audit-heads/".
	Prefix string `yaml:"prefix"`
	// Retention is how long each head is locked (COMPLIANCE: no one,
	// root account included, shortens it). Default 7 years.
	Retention Duration `yaml:"retention"`
}

// Audit anchor defaults.
const (
	AuditAnchorFileName         = "audit-anchors.log"
	DefaultAuditAnchorPrefix    = "audit-heads/"
	DefaultAuditAnchorRetention = 7 * 365 * 24 * time.Hour
)

// AuditAnchorPath is the file anchor's path (it follows the data
// directory when not set).
func (c *Config) AuditAnchorPath() string {
	return c.under(c.Audit.Anchor.File.Path, AuditAnchorFileName)
}

func (a *Audit) applyDefaults() {
	an := &a.Anchor
	if an.Backend == "" {
		an.Backend = "file"
	}
	if an.S3.Prefix == "" {
		an.S3.Prefix = DefaultAuditAnchorPrefix
	}
	if an.S3.Retention == 0 {
		an.S3.Retention = Duration(DefaultAuditAnchorRetention)
	}
}

func (a *Audit) validate() error {
	an := a.Anchor
	switch an.Backend {
	case "file", "none":
	case "s3":
		if an.S3.Bucket == "" || an.S3.Region == "" {
			return fmt.Errorf("audit.anchor.s3: bucket and region are required (got bucket %q, region %q)", an.S3.Bucket, an.S3.Region)
		}
		if an.S3.Retention.D() < 24*time.Hour {
			return fmt.Errorf("audit.anchor.s3.retention: %s is shorter than a day", an.S3.Retention.D())
		}
	default:
		return fmt.Errorf("audit.anchor.backend: %q is not file, s3 or none", an.Backend)
	}
	return nil
}
