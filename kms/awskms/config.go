package awskms

import (
	"fmt"
	"net/url"
)

// DefaultMaxAttempts is how many times the SDK tries a call (with backoff)
// when no Config.MaxAttempts is set. The caller's context bounds the total.
const DefaultMaxAttempts = 3

// Config configures the provider. Static credentials are optional: without
// them the SDK's default chain (environment, shared config, instance role)
// is used.
type Config struct {
	// Region is the AWS region of the KMS endpoint, e.g. "us-east-1".
	Region string `yaml:"region"`
	// Endpoint overrides the KMS endpoint (a KMS-compatible server such as
	// local-kms); empty means AWS's regional endpoint.
	Endpoint        string `yaml:"endpoint,omitempty"`
	AccessKeyID     string `yaml:"accessKeyId,omitempty"`
	SecretAccessKey string `yaml:"secretAccessKey,omitempty"`
	SessionToken    string `yaml:"sessionToken,omitempty"`
	// OrgRegion is the organisation's region; keys elsewhere are refused.
	// Empty disables the check.
	OrgRegion string `yaml:"orgRegion,omitempty"`
	// MaxAttempts bounds SDK retries; 0 means DefaultMaxAttempts.
	MaxAttempts int `yaml:"maxAttempts,omitempty"`
}

// Validate names the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Region == "":
		return fmt.Errorf("awskms: region is required")
	case (c.AccessKeyID == "") != (c.SecretAccessKey == ""):
		return fmt.Errorf("awskms: accessKeyId and secretAccessKey must be set together")
	case c.MaxAttempts < 0:
		return fmt.Errorf("awskms: maxAttempts %d is negative", c.MaxAttempts)
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("awskms: endpoint %q is not an http(s) URL", c.Endpoint)
		}
	}
	return nil
}
