package twilio

import (
	"os"
	"path/filepath"
	"testing"
)

// The endpoint refuses to start without a way to authenticate: an
// unknown auth mode, or signature auth without a usable auth token.
func TestConfigRefusesNoAuth(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]Config{
		"no mode":       {},
		"other mode":    {Auth: "none"},
		"no token":      {Auth: AuthSignature},
		"missing file":  {Auth: AuthSignature, AuthTokenFile: filepath.Join(t.TempDir(), "absent")},
		"empty file":    {Auth: AuthSignature, AuthTokenFile: empty},
		"relative path": {Auth: AuthBearer, Path: "twilio"},
	} {
		if err := c.setDefaults(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	good := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(good, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Config{Auth: AuthSignature, AuthTokenFile: good}
	if err := c.setDefaults(); err != nil || string(c.AuthToken) != "s3cret-token" || c.Path != DefaultPath {
		t.Fatalf("token file: %v, %q, path %q", err, c.AuthToken, c.Path)
	}
}
