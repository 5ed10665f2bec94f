// Package config is the gateway's configuration: plain structs decoded
// strictly from YAML (unknown keys are errors naming the key and line),
// defaults from the named constants in defaults.go, and Validate naming the
// field and the bad value.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/mediaseal/mediaseal/policy"
)

// Default is the embedded default configuration (configs/mediaseal.yaml).
//
//go:embed default.yaml
var Default []byte

// Config is the whole gateway configuration.
type Config struct {
	Org       Org             `yaml:"org"`
	DataDir   string          `yaml:"dataDir"`
	Log       Log             `yaml:"log"`
	API       API             `yaml:"api"`
	Media     Media           `yaml:"media"`
	Recording Recording       `yaml:"recording"`
	Storage   Storage         `yaml:"storage"`
	Spool     Spool           `yaml:"spool"`
	KMS       KMS             `yaml:"kms"`
	Store     Store           `yaml:"store"`
	Keys      []Key           `yaml:"keys"`
	Policies  []policy.Policy `yaml:"policies"`
	SIPREC    SIPREC          `yaml:"siprec"`
	WHIP      WHIP            `yaml:"whip"`
	Twilio    Twilio          `yaml:"twilio"`
	AudioHook AudioHook       `yaml:"audiohook"`
	Debug     Debug           `yaml:"debug"`
	Ceremony  Ceremony        `yaml:"ceremony"`
	Audit     Audit           `yaml:"audit"`
	Gateway   GatewayMember   `yaml:"gateway"` // cluster/
}

// Debug configures the optional diagnostics listener (pprof). It is off
// by default; bind it to loopback: profiles reveal internals.
type Debug struct {
	Addr string `yaml:"addr"` // HOST:PORT, empty = off
}

// Org is the organisation this gateway records for.
type Org struct {
	ID     string `yaml:"id"`
	Region string `yaml:"region"`
	// CallerRegion (ISO 3166 alpha-2, e.g. GB) reads callers' national
	// numbers as E.164 for the recordings search; empty: only
	// international (+…) numbers are normalised (docs/search.md).
	CallerRegion string `yaml:"callerRegion"`
}

// Log configures zap.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // console (dev) or json (production)
}

// API configures the HTTP listener (session API, control plane, health, metrics).
type API struct {
	Addr         string   `yaml:"addr"`
	MaxBodyBytes Size     `yaml:"maxBodyBytes"`
	ReadTimeout  Duration `yaml:"readTimeout"`
	// ShutdownTimeout bounds graceful shutdown (finishing recordings, draining the spool).
	ShutdownTimeout Duration `yaml:"shutdownTimeout"`
	// TLS serves the API over HTTPS (tls.go).
	TLS APITLS `yaml:"tls"`
	// InsecurePlaintext allows plain HTTP on a non-loopback api.addr (for a
	// TLS-terminating proxy on the same host); see tls.go.
	InsecurePlaintext bool `yaml:"insecurePlaintext"`
}

// Media configures RTP ingest.
type Media struct {
	// BindAddr is the address RTP sockets listen on.
	BindAddr string `yaml:"bindAddr"`
	// AdvertiseAddr is the host returned to media servers (defaults to BindAddr).
	AdvertiseAddr     string   `yaml:"advertiseAddr"`
	PortMin           int      `yaml:"portMin"`
	PortMax           int      `yaml:"portMax"`
	InactivityTimeout Duration `yaml:"inactivityTimeout"`
	// MaxPendingBytes bounds the media buffered per call while its DEK is fetched.
	MaxPendingBytes Size `yaml:"maxPendingBytes"`
	// SocketBuffer is the kernel receive buffer requested per RTP socket.
	SocketBuffer Size `yaml:"socketBuffer"`
	MaxSessions  int  `yaml:"maxSessions"`
	// MediaSource: requireSource, latchWindow (source.go).
	MediaSource `yaml:",inline"`
}

// Recording configures the sealed recording writer.
type Recording struct {
	FlushInterval Duration `yaml:"flushInterval"`
	MaxChunkSize  Size     `yaml:"maxChunkSize"`
	Compression   bool     `yaml:"compression"`
	// RetentionDays is the organisation's default retention, for
	// policies that set no retentionDays; 0: none (docs/retention.md).
	RetentionDays int `yaml:"retentionDays"`
	// RetentionSweepInterval is the time between the retention sweeper's
	// passes (deleting expired recordings, syncing legal-hold flags);
	// 0: one hour.
	RetentionSweepInterval Duration `yaml:"retentionSweepInterval"`
}

// Storage selects and configures the object store.
type Storage struct {
	Type string    `yaml:"type"` // fs or s3
	FS   StorageFS `yaml:"fs"`
	S3   StorageS3 `yaml:"s3"`
}

// StorageFS configures the local-filesystem store.
type StorageFS struct {
	Dir string `yaml:"dir"` // default <dataDir>/recordings
}

// StorageS3 configures an S3 or S3-compatible store.
type StorageS3 struct {
	Bucket          string `yaml:"bucket"`
	Region          string `yaml:"region"`
	Endpoint        string `yaml:"endpoint"`
	PathStyle       bool   `yaml:"pathStyle"`
	AccessKeyID     string `yaml:"accessKeyId"`
	SecretAccessKey string `yaml:"secretAccessKey"`
	// LockMode is the object-lock mode of a recording's retention:
	// GOVERNANCE (default) or COMPLIANCE (no one, root included, can
	// shorten it).
	LockMode string `yaml:"lockMode"`
}

// Spool configures the durable local spool of ciphertext.
type Spool struct {
	Dir      string `yaml:"dir"` // default <dataDir>/spool
	MaxBytes Size   `yaml:"maxBytes"`
	// RetryMax caps the backoff between upload attempts while object
	// storage is down (so at most this long passes between its return and
	// the backlog starting to drain).
	RetryMax Duration `yaml:"retryMax"`
	// Commit is how appends become durable: "filesystem" (one syncfs of
	// the spool's filesystem shared by every recording flushing at that
	// moment; the default) or "file" (one fsync per recording per flush,
	// for a spool on a filesystem shared with other busy writers).
	Commit string `yaml:"commit"`
}

// KMS configures key providers and the DEK broker.
type KMS struct {
	Timeout Duration `yaml:"timeout"`
	// PlatformKey is the id policies name the platform key by (with
	// providerType PLATFORM): used by default and as fallback.
	PlatformKey string `yaml:"platformKey"`
	// Platform says where the platform key lives (platformkey.go); the
	// local keyring by default.
	Platform KMSPlatform `yaml:"platform"`
	Local    KMSLocal    `yaml:"local"`
	AWS      KMSAWS      `yaml:"aws"`
	PKCS11   KMSPKCS11   `yaml:"pkcs11"`
	Breaker  Breaker     `yaml:"breaker"`
	Pool     KMSPool     `yaml:"pool"`
}

// KMSPool configures the DEK pre-fetch pool of each key in use (the
// platform key and every customer key a session names): DEKs generated
// ahead, so a session's first chunk is sealed and durable without a KMS
// round trip.
type KMSPool struct {
	Enabled *bool `yaml:"enabled"` // default true
	Size    int   `yaml:"size"`    // DEKs ready per key
}

// On reports whether keys get a pre-fetch pool.
func (p KMSPool) On() bool { return boolOr(p.Enabled, true) }

// KMSLocal configures the platform keyring.
type KMSLocal struct {
	Dir string `yaml:"dir"` // default <dataDir>/keyring
}

// KMSAWS configures the AWS KMS provider (or a KMS-compatible server).
type KMSAWS struct {
	Enabled         bool   `yaml:"enabled"`
	Region          string `yaml:"region"`
	Endpoint        string `yaml:"endpoint"`
	AccessKeyID     string `yaml:"accessKeyId"`
	SecretAccessKey string `yaml:"secretAccessKey"`
	SessionToken    string `yaml:"sessionToken"`
	MaxAttempts     int    `yaml:"maxAttempts"`
	// CiphertextFormat names a KMS-compatible server whose key versions
	// are read from its ciphertexts ("local-kms"); empty for AWS KMS,
	// which reports key material ids.
	CiphertextFormat string `yaml:"ciphertextFormat"`
}

// KMSPKCS11 configures the HSM provider.
type KMSPKCS11 struct {
	Enabled    bool   `yaml:"enabled"`
	ModulePath string `yaml:"modulePath"`
	TokenLabel string `yaml:"tokenLabel"`
	PIN        string `yaml:"pin"`
	Region     string `yaml:"region"`
	Sessions   int    `yaml:"sessions"`
}

// Breaker configures the per-key circuit breaker.
type Breaker struct {
	Failures int      `yaml:"failures"`
	Cooldown Duration `yaml:"cooldown"`
}

// Store configures the control-plane database.
type Store struct {
	Driver string `yaml:"driver"` // sqlite or postgres
	DSN    string `yaml:"dsn"`    // sqlite: file path (default <dataDir>/mediaseal.db); postgres: URL
}

// Key registers a key reference that policies name by ID.
type Key struct {
	ID           string `yaml:"id"`
	Name         string `yaml:"name"`
	ProviderType string `yaml:"providerType"` // PLATFORM, AWS_KMS, PKCS11
	// ProviderKeyID is the local keyring id, the AWS KMS ARN or the HSM label.
	ProviderKeyID string `yaml:"providerKeyId"`
	Region        string `yaml:"region"`
}

// FieldError names the configuration field that is invalid.
type FieldError struct {
	Field string
	Value any
	Msg   string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("config: %s: %s (got %v)", e.Field, e.Msg, e.Value)
}

// Load reads a config file; path "" means the embedded default.
func Load(path string) (*Config, error) {
	data := Default
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	return Parse(data)
}

// Parse strictly decodes YAML, applies defaults and validates.
func Parse(data []byte) (*Config, error) {
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %w", err)
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}
