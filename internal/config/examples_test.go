package config

import (
	"os"
	"path/filepath"
	"testing"
)

// TestExampleConfigs parses every annotated example in configs/examples
// (strictly, with validation) and checks that each still shows what it is
// there to show.
func TestExampleConfigs(t *testing.T) {
	dir := filepath.Join("..", "..", "configs", "examples")
	checks := map[string]func(t *testing.T, c *Config){
		"s3-aws-kms.yaml": func(t *testing.T, c *Config) {
			if c.Storage.Type != "s3" || c.Storage.S3.Bucket == "" || !c.KMS.AWS.Enabled ||
				c.KMS.AWS.Region != c.Org.Region || c.Storage.S3.Region != c.Org.Region {
				t.Fatalf("S3 + AWS KMS in the organisation's region: %+v %+v", c.Storage, c.KMS.AWS)
			}
			if c.KMS.Platform.Provider != PlatformAWS {
				t.Fatalf("platform key in %q, want aws", c.KMS.Platform.Provider)
			}
			if len(c.Keys) == 0 || c.Keys[0].ProviderType != "AWS_KMS" || c.Keys[0].Region != c.Org.Region {
				t.Fatalf("keys %+v", c.Keys)
			}
		},
		"postgres.yaml": func(t *testing.T, c *Config) {
			if c.Store.Driver != "postgres" || c.Store.DSN == "" || c.KMS.Local.Dir == "" {
				t.Fatalf("store %+v, keyring dir %q", c.Store, c.KMS.Local.Dir)
			}
		},
		"hsm.yaml": func(t *testing.T, c *Config) {
			p := c.KMS.PKCS11
			if !p.Enabled || p.ModulePath == "" || p.TokenLabel == "" || p.PIN == "" || p.Region != c.Org.Region || p.Sessions == 0 {
				t.Fatalf("kms.pkcs11 %+v", p)
			}
			if c.KMS.Platform.Provider != PlatformPKCS11 {
				t.Fatalf("platform key in %q, want pkcs11", c.KMS.Platform.Provider)
			}
			if len(c.Keys) == 0 || c.Keys[0].ProviderType != "PKCS11" {
				t.Fatalf("keys %+v", c.Keys)
			}
		},
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < len(checks) {
		t.Fatalf("%d examples in %s, want at least %d", len(files), dir, len(checks))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(data)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			check, ok := checks[name]
			if !ok {
				t.Fatalf("%s has no check here: add one", name)
			}
			check(t, c)
			// Production examples serve the API over TLS (issue 17, hole 7).
			if !c.API.TLS.Enabled() || c.API.InsecurePlaintext {
				t.Fatalf("%s: api %+v: production examples must use api.tls", name, c.API)
			}
		})
	}
}
