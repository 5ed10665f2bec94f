package config

import (
	"fmt"
	"net"
	"regexp"

	"github.com/mediaseal/mediaseal/kms"
	"github.com/mediaseal/mediaseal/policy"
)

var idRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// Validate checks the configuration and names the first bad field.
// callerRegionRe is an ISO 3166 alpha-2 code (org.callerRegion).
var callerRegionRe = regexp.MustCompile(`^[A-Z]{2}$`)

func (c *Config) Validate() error {
	checks := []struct {
		ok    bool
		field string
		value any
		msg   string
	}{
		{idRe.MatchString(c.Org.ID), "org.id", c.Org.ID, "must be letters, digits, . _ : -"},
		{c.Org.Region != "", "org.region", c.Org.Region, "must be set"},
		{c.Org.CallerRegion == "" || callerRegionRe.MatchString(c.Org.CallerRegion), "org.callerRegion", c.Org.CallerRegion, "must be an ISO 3166 alpha-2 region such as GB, or empty"},
		{oneOf(c.Log.Level, "debug", "info", "warn", "error"), "log.level", c.Log.Level, "must be debug, info, warn or error"},
		{oneOf(c.Log.Format, "console", "json"), "log.format", c.Log.Format, "must be console or json"},
		{validHostPort(c.API.Addr), "api.addr", c.API.Addr, "must be HOST:PORT"},
		{c.Debug.Addr == "" || validHostPort(c.Debug.Addr), "debug.addr", c.Debug.Addr, "must be HOST:PORT or empty (off)"},
		{c.API.MaxBodyBytes >= 1024, "api.maxBodyBytes", c.API.MaxBodyBytes, "must be at least 1KiB"},
		{net.ParseIP(c.Media.BindAddr) != nil, "media.bindAddr", c.Media.BindAddr, "must be an IP address"},
		{c.Media.PortMin > 0 && c.Media.PortMin <= 65535, "media.portMin", c.Media.PortMin, "must be 1-65535"},
		{c.Media.PortMax >= c.Media.PortMin && c.Media.PortMax <= 65535, "media.portMax", c.Media.PortMax, "must be between media.portMin and 65535"},
		{c.Media.InactivityTimeout.D() >= 100e6, "media.inactivityTimeout", c.Media.InactivityTimeout.D(), "must be at least 100ms"},
		{c.Media.MaxPendingBytes >= 4096, "media.maxPendingBytes", c.Media.MaxPendingBytes, "must be at least 4KiB"},
		{c.Media.MaxSessions > 0, "media.maxSessions", c.Media.MaxSessions, "must be positive"},
		{c.Recording.FlushInterval.D() >= 10e6 && c.Recording.FlushInterval.D() <= 60e9, "recording.flushInterval", c.Recording.FlushInterval.D(), "must be between 10ms and 60s"},
		{c.Recording.MaxChunkSize >= 4<<10 && c.Recording.MaxChunkSize <= 4<<20, "recording.maxChunkSize", c.Recording.MaxChunkSize, "must be between 4KiB and 4MiB"},
		{c.Recording.RetentionDays >= 0 && c.Recording.RetentionDays <= policy.MaxRetentionDays, "recording.retentionDays", c.Recording.RetentionDays, "must be 0 (none) to 36500"},
		{c.Recording.RetentionSweepInterval == 0 || (c.Recording.RetentionSweepInterval.D() >= 10e6 && c.Recording.RetentionSweepInterval.D() <= 86400e9),
			"recording.retentionSweepInterval", c.Recording.RetentionSweepInterval.D(), "must be 0 (one hour) or between 10ms and 24h"},
		{c.Storage.S3.LockMode == "" || oneOf(c.Storage.S3.LockMode, "GOVERNANCE", "COMPLIANCE"), "storage.s3.lockMode", c.Storage.S3.LockMode, "must be GOVERNANCE or COMPLIANCE"},
		{oneOf(c.Storage.Type, "fs", "s3"), "storage.type", c.Storage.Type, "must be fs or s3"},
		{c.Storage.Type != "s3" || c.Storage.S3.Bucket != "", "storage.s3.bucket", c.Storage.S3.Bucket, "must be set when storage.type is s3"},
		{c.Storage.Type != "s3" || c.Storage.S3.Region != "", "storage.s3.region", c.Storage.S3.Region, "must be set when storage.type is s3"},
		{c.Spool.MaxBytes >= 1<<20, "spool.maxBytes", c.Spool.MaxBytes, "must be at least 1MiB"},
		{oneOf(c.Spool.Commit, "filesystem", "file"), "spool.commit", c.Spool.Commit, "must be filesystem or file"},
		{c.Spool.RetryMax.D() >= 1e9 && c.Spool.RetryMax.D() <= 3600e9, "spool.retryMax", c.Spool.RetryMax.D(), "must be between 1s and 1h"},
		{c.KMS.Timeout.D() >= 10e6 && c.KMS.Timeout.D() <= 60e9, "kms.timeout", c.KMS.Timeout.D(), "must be between 10ms and 60s"},
		{idRe.MatchString(c.KMS.PlatformKey), "kms.platformKey", c.KMS.PlatformKey, "must be a key id"},
		{c.KMS.Breaker.Failures > 0, "kms.breaker.failures", c.KMS.Breaker.Failures, "must be positive"},
		{c.KMS.Pool.Size > 0 && c.KMS.Pool.Size <= 1024, "kms.pool.size", c.KMS.Pool.Size, "must be between 1 and 1024"},
		{!c.KMS.AWS.Enabled || c.KMS.AWS.Region != "", "kms.aws.region", c.KMS.AWS.Region, "must be set when kms.aws is enabled"},
		{!c.KMS.AWS.Enabled || c.KMS.AWS.Region == c.Org.Region, "kms.aws.region", c.KMS.AWS.Region, "must equal org.region " + c.Org.Region + " (keys stay in the organisation's region)"},
		{!c.KMS.PKCS11.Enabled || c.KMS.PKCS11.ModulePath != "", "kms.pkcs11.modulePath", c.KMS.PKCS11.ModulePath, "must be set when kms.pkcs11 is enabled"},
		{!c.KMS.PKCS11.Enabled || c.KMS.PKCS11.TokenLabel != "", "kms.pkcs11.tokenLabel", c.KMS.PKCS11.TokenLabel, "must be set when kms.pkcs11 is enabled"},
		{oneOf(c.Store.Driver, "sqlite", "postgres"), "store.driver", c.Store.Driver, "must be sqlite or postgres"},
		{c.Store.Driver != "postgres" || c.Store.DSN != "", "store.dsn", c.Store.DSN, "must be set for postgres"},
	}
	for _, ch := range checks {
		if !ch.ok {
			return &FieldError{ch.field, ch.value, ch.msg}
		}
	}
	if err := c.KMS.validatePlatform(); err != nil {
		return err
	}
	if err := c.API.validateTLS(); err != nil {
		return err
	}
	if err := c.Media.MediaSource.validate(); err != nil {
		return err
	}
	if err := c.SIPREC.validate(); err != nil {
		return err
	}
	if err := c.WHIP.validate(); err != nil {
		return err
	}
	if err := c.AudioHook.validate(); err != nil {
		return err
	}
	if err := c.Twilio.validate(); err != nil {
		return err
	}
	if err := c.Ceremony.validate(); err != nil {
		return err
	}
	if err := c.Audit.validate(); err != nil {
		return err
	}
	if err := c.Gateway.validate(); err != nil {
		return err
	}
	keys := map[string]Key{}
	for i, k := range c.Keys {
		f := fmt.Sprintf("keys[%d]", i)
		switch {
		case !idRe.MatchString(k.ID):
			return &FieldError{f + ".id", k.ID, "must be letters, digits, . _ : -"}
		case keys[k.ID].ID != "":
			return &FieldError{f + ".id", k.ID, "duplicate key id"}
		case kms.NameOfType(k.ProviderType) == "":
			return &FieldError{f + ".providerType", k.ProviderType, "must be " + kms.Types(kms.Kinds())}
		case k.ProviderKeyID == "":
			return &FieldError{f + ".providerKeyId", k.ProviderKeyID, "must name the key in its provider (keyring id, ARN or HSM label)"}
		case k.Region != "" && k.Region != c.Org.Region:
			return &FieldError{f + ".region", k.Region, fmt.Sprintf("key region %s differs from organisation region %s", k.Region, c.Org.Region)}
		}
		keys[k.ID] = k
	}
	if _, err := policy.NewSet(c.Policies); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	for i, p := range c.Policies {
		ref := p.EncryptionKeyReference
		if ref == nil {
			continue
		}
		k, ok := keys[ref.KeyID]
		if !ok && !(ref.ProviderType == policy.ProviderPlatform && ref.KeyID == c.KMS.PlatformKey) {
			return &FieldError{fmt.Sprintf("policies[%d].encryptionKeyReference.keyId", i), ref.KeyID, "is not a key listed under keys"}
		}
		if ok && k.ProviderType != ref.ProviderType {
			return &FieldError{fmt.Sprintf("policies[%d].encryptionKeyReference.providerType", i), ref.ProviderType,
				"differs from the key's providerType " + k.ProviderType}
		}
	}
	return nil
}

func oneOf(v string, opts ...string) bool {
	for _, o := range opts {
		if v == o {
			return true
		}
	}
	return false
}

func validHostPort(s string) bool {
	_, _, err := net.SplitHostPort(s)
	return err == nil
}
