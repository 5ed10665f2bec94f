package httpx

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEnsureTokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ingest.token")
	tok, err := EnsureTokenFile(path)
	if err != nil || len(tok) != 64 {
		t.Fatalf("first start: %q %v", tok, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode: %v %v", fi.Mode(), err)
	}
	if again, err := EnsureTokenFile(path); err != nil || again != tok {
		t.Fatalf("second start read %q %v, want the same token", again, err)
	}
	if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureTokenFile(path); err == nil {
		t.Fatal("a token shorter than 32 characters was accepted")
	}
}
