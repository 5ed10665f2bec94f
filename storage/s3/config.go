package s3store

import (
	"fmt"
	"net/url"
)

// Defaults, in one place.
const (
	// MinPartSize is S3's smallest part but the last.
	MinPartSize = 5 << 20
	// DefaultPartSize is the target part size of multipart uploads.
	DefaultPartSize = 8 << 20
	// MaxPartSize bounds the memory a Put holds (two parts at a time).
	MaxPartSize = 512 << 20
	// DefaultMaxAttempts is how often the SDK tries one request.
	DefaultMaxAttempts = 3
	// DefaultLockMode is the object-lock mode used when a Put asks for
	// retention.
	DefaultLockMode = "GOVERNANCE"
)

// Config selects a bucket and how to reach it. The zero value of every
// optional field means its default.
type Config struct {
	// Bucket holds the recordings. Required.
	Bucket string
	// Region of the bucket, e.g. "eu-west-2". Required.
	Region string
	// Endpoint is the base URL of an S3-compatible server
	// ("http://127.0.0.1:7070"); empty means AWS.
	Endpoint string
	// PathStyle addresses the bucket in the path rather than the host name,
	// as most S3-compatible servers need.
	PathStyle bool
	// AccessKeyID and SecretAccessKey (and SessionToken) are static
	// credentials; when empty the AWS default chain is used (environment,
	// shared config, instance role).
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// PartSize is the target size of multipart upload parts (bytes);
	// between MinPartSize and MaxPartSize. Objects smaller than one part
	// are sent with a single PutObject.
	PartSize int64
	// MaxAttempts is how often the SDK tries one request before the error
	// is returned (it retries throttling and transient failures).
	MaxAttempts int
	// LockMode is the object-lock mode ("GOVERNANCE" or "COMPLIANCE") for
	// Puts that carry RetainUntil; the bucket must have object lock enabled.
	LockMode string
}

func (c *Config) setDefaults() {
	if c.PartSize == 0 {
		c.PartSize = DefaultPartSize
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.LockMode == "" {
		c.LockMode = DefaultLockMode
	}
}

// Validate names the first bad field and its value.
func (c Config) Validate() error {
	c.setDefaults()
	switch {
	case c.Bucket == "":
		return fmt.Errorf("%w: bucket is required", ErrConfig)
	case c.Region == "":
		return fmt.Errorf("%w: region is required", ErrConfig)
	case c.PartSize < MinPartSize || c.PartSize > MaxPartSize:
		return fmt.Errorf("%w: partSize %d is outside [%d, %d]", ErrConfig, c.PartSize, MinPartSize, MaxPartSize)
	case c.MaxAttempts < 1:
		return fmt.Errorf("%w: maxAttempts %d is below 1", ErrConfig, c.MaxAttempts)
	case c.LockMode != "GOVERNANCE" && c.LockMode != "COMPLIANCE":
		return fmt.Errorf("%w: lockMode %q is neither GOVERNANCE nor COMPLIANCE", ErrConfig, c.LockMode)
	case (c.AccessKeyID == "") != (c.SecretAccessKey == ""):
		return fmt.Errorf("%w: accessKeyID and secretAccessKey go together", ErrConfig)
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: endpoint %q is not an http(s) URL", ErrConfig, c.Endpoint)
		}
	}
	return nil
}
